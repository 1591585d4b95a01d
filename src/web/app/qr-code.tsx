/** A QR code rendered locally (qrcode-generator) as an SVG image: no network, scannable by a phone. */

import { useMemo } from 'preact/hooks';
import qrcode from 'qrcode-generator';

/** `<img>` of a QR code for `text`, or a sentence when the text is too long for a QR code. */
export function QrCode({ text, label }: { text: string; label: string }) {
  const src = useMemo(() => {
    try {
      const qr = qrcode(0, 'M');
      qr.addData(text);
      qr.make();
      const svg = qr.createSvgTag({ cellSize: 4, margin: 4, scalable: true });
      return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
    } catch {
      return null;
    }
  }, [text]);
  if (!src) return <p class="note">This code is too long for a QR code; copy it instead.</p>;
  return <img class="qr" src={src} alt={label} data-testid="invite-qr" width={220} height={220} />;
}
