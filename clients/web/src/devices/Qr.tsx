/** A code as a QR image, drawn as SVG elements like the TOTP QR (`auth/TotpQr.tsx`: no inline
 * style, no `innerHTML`, so the strict CSP holds), with the same text shown beside it. */
import { encode } from "uqr";

export function Qr({ payload, label }: { payload: string; label: string }) {
  const { data, size } = encode(payload, { ecc: "M", border: 2 });
  let path = "";
  data.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) path += `M${x} ${y}h1v1h-1z`;
    }),
  );
  return (
    <svg class="qr" role="img" aria-label={label} viewBox={`0 0 ${size} ${size}`} width="200" height="200" shape-rendering="crispEdges" data-payload={payload}>
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
