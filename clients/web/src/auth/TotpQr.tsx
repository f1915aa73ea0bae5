/**
 * The `otpauth://` URI as a QR code, drawn as SVG elements (no inline style or `innerHTML`,
 * so the strict CSP holds). Encoding by `uqr`, a small maintained, dependency-free encoder.
 */
import { encode } from "uqr";

export function TotpQr({ uri, label }: { uri: string; label: string }) {
  const { data, size } = encode(uri, { ecc: "M", border: 2 });
  let path = "";
  data.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) path += `M${x} ${y}h1v1h-1z`;
    }),
  );
  return (
    <svg class="qr" role="img" aria-label={label} viewBox={`0 0 ${size} ${size}`} width="200" height="200" shape-rendering="crispEdges">
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
