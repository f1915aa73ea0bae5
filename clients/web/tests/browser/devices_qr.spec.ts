/**
 * Linking a device by scanning its QR code with the first device's camera, in Debian's
 * Chromium on Linux, which has no `BarcodeDetector`: the page decodes the camera's frames
 * itself (jsQR). No camera exists on this machine, so Chromium's own fake capture device
 * plays a video file that this test writes: one frame showing the QR code the second device
 * displays, drawn from the code it shows as text. Everything else is real: the server, the
 * Python SDK coordinator, both browser devices, the signed `add_device`.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { encode } from "uqr";
import base from "../../playwright.config";
import { askToJoin, expect, logIn, PASSWORD, protectKeys, sdk, sdkCoordinatorGroup, test } from "./fixtures";

const CAMERA = path.join(mkdtempSync(path.join(tmpdir(), "cordon-camera-")), "camera.y4m");

/** One 640×480 frame (YUV 4:2:0, Y4M) with `text` as a QR code, 8 px a module, on white. */
function showOnCamera(text: string): void {
  const [width, height, scale] = [640, 480, 8];
  const { data, size } = encode(text, { ecc: "M", border: 4 });
  const luma = Buffer.alloc(width * height, 255);
  const left = (width - size * scale) >> 1;
  const top = (height - size * scale) >> 1;
  for (let y = 0; y < size * scale; y++) {
    for (let x = 0; x < size * scale; x++) {
      if (data[Math.floor(y / scale)]![Math.floor(x / scale)]) luma[(top + y) * width + left + x] = 0;
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2), 128);
  writeFileSync(CAMERA, Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F30:1 Ip A1:1 C420jpeg\nFRAME\n`), luma, chroma, chroma]));
}
showOnCamera("nothing yet"); // the device exists from the browser's start

test.use({
  permissions: ["camera"],
  launchOptions: {
    ...base.use!.launchOptions,
    args: [...(base.use!.launchOptions!.args ?? []), "--use-fake-device-for-media-stream", `--use-file-for-fake-video-capture=${CAMERA}`],
  },
});

test("the first device links a second one by scanning its QR code with the camera", async ({ page, browser, server }) => {
  test.setTimeout(180_000);
  const { common, groupId, opened } = await sdkCoordinatorGroup(server, "cam.coord", "Operation Lantern");

  // The first device joins and is certified.
  await server.enrolledUser("quin.scan", PASSWORD);
  await askToJoin(page, "quin.scan", opened.invitation);
  await sdk("admit", ...common, "--group", groupId);
  await page.getByRole("link", { name: "Groups", exact: true }).click();
  await page.getByRole("link", { name: "Operation Lantern" }).click();
  await expect(page.getByTestId("root-fingerprint")).toHaveText(String(opened.fingerprint));

  // The second device shows its link code; the camera sees its QR code.
  const second = await (await browser.newContext({ baseURL: server.base })).newPage();
  await logIn(second, "quin.scan");
  await second.getByRole("link", { name: "Devices" }).click();
  await protectKeys(second);
  const linkCode = (await second.getByTestId("link-code").textContent())!.trim();
  showOnCamera(linkCode);

  // The first device scans it: the field fills with the code, the camera stops, the link is signed.
  await page.getByRole("link", { name: "Devices" }).click();
  const field = page.getByLabel("Link code of the new device");
  await field.locator("xpath=..").getByRole("button", { name: "Scan with the camera" }).click();
  await expect(page.getByRole("button", { name: "Stop the camera" })).toBeVisible();
  await expect(field).toHaveValue(linkCode);
  await expect(page.getByLabel("Camera view for scanning a QR code")).toHaveCount(0);
  await page.getByRole("button", { name: "Link the device" }).click();
  await expect(page.locator('[data-outcome="linked"]')).toHaveText("Operation Lantern: device linked");
  await second.context().close();
});
