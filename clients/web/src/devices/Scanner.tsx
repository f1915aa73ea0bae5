/**
 * A code field that can also read a QR code from the camera: through the browser's own
 * `BarcodeDetector` where it has one (Chromium on Android, ChromeOS and macOS), else through
 * jsQR (pure JavaScript, loaded only then: Chromium on Linux and Windows, Firefox and Safari
 * have no detector). Frames are decoded in the page and never leave it. Where no camera can
 * be used, the typed code is the way: the field is always there. The server's
 * Permissions-Policy allows the camera for this origin only (`camera=(self)`).
 */
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { m } from "./messages";

interface Detected {
  rawValue: string;
}
interface Detector {
  detect(source: HTMLVideoElement): Promise<Detected[]>;
}
type DetectorClass = new (options: { formats: string[] }) => Detector;

function nativeDetector(): DetectorClass | null {
  const found = (globalThis as { BarcodeDetector?: DetectorClass }).BarcodeDetector;
  return typeof found === "function" ? found : null;
}

/** jsQR over the current video frame, drawn onto a canvas the page keeps. */
async function frameDecoder(): Promise<Detector> {
  const { default: jsQR } = await import("jsqr");
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  return {
    detect: async (video) => {
      const width = video.videoWidth;
      const height = video.videoHeight;
      if (!context || !width || !height) return [];
      canvas.width = width;
      canvas.height = height;
      context.drawImage(video, 0, 0, width, height);
      const found = jsQR(context.getImageData(0, 0, width, height).data, width, height, { inversionAttempts: "dontInvert" });
      return found?.data ? [{ rawValue: found.data }] : [];
    },
  };
}

async function detector(): Promise<Detector> {
  const Native = nativeDetector();
  return Native ? new Native({ formats: ["qr_code"] }) : frameDecoder();
}

/** Camera preview and detection loop; stops the camera when a code is read or on close. */
function Camera({ onCode, onFail }: { onCode: (text: string) => void; onFail: () => void }) {
  const video = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    let stream: MediaStream | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let live = true;
    void (async () => {
      try {
        const reader = await detector();
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
        if (!live || !video.current) return;
        video.current.srcObject = stream;
        await video.current.play();
        const tick = async () => {
          if (!live || !video.current) return;
          const codes = await reader.detect(video.current).catch(() => []);
          if (codes[0]?.rawValue) onCode(codes[0].rawValue);
          else timer = setTimeout(() => void tick(), 250);
        };
        void tick();
      } catch {
        if (live) onFail();
      }
    })();
    return () => {
      live = false;
      clearTimeout(timer);
      stream?.getTracks().forEach((track) => track.stop());
    };
  }, []);
  return <video ref={video} class="scanner" muted playsInline aria-label={m("scan_video")} />;
}

interface Props {
  name: string;
  label: string;
  hint: string;
  value: string;
  onInput: (value: string) => void;
  multiline?: boolean;
}

/** The typed code, with a "scan" button where the browser can read QR codes. */
export function CodeField(props: Props) {
  const id = useId();
  const [scanning, setScanning] = useState(false);
  const [failed, setFailed] = useState(false);
  const canScan = typeof navigator.mediaDevices?.getUserMedia === "function";
  const common = {
    id,
    name: props.name,
    value: props.value,
    dir: "ltr" as const,
    spellcheck: false,
    autocapitalize: "off" as const,
    required: true,
    "aria-describedby": `${id}-hint`,
    onInput: (event: Event) => props.onInput((event.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.multiline ? <textarea rows={2} {...common} /> : <input type="text" autocomplete="off" {...common} />}
      <p class="hint" id={`${id}-hint`}>
        {props.hint} {!canScan && m("scan_unavailable")}
      </p>
      {failed && (
        <p class="hint" role="status">
          {m("scan_failed")}
        </p>
      )}
      {canScan && (
        <button type="button" class="secondary" aria-pressed={scanning} onClick={() => setScanning(!scanning)}>
          {scanning ? m("scan_stop") : m("scan")}
        </button>
      )}
      {scanning && (
        <Camera
          onCode={(text) => {
            props.onInput(text);
            setScanning(false);
          }}
          onFail={() => {
            setScanning(false);
            setFailed(true);
          }}
        />
      )}
    </div>
  );
}
