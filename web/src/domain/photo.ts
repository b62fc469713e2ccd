/** Photos sized for the network: at most 1600 px on the long side, JPEG, keeping the
 * capture time and place (EXIF DateTimeOriginal and GPS) that the evidence
 * service reads to check where and when a photo was taken.
 *
 * The canvas re-encoding drops every EXIF tag, so the original's EXIF is read
 * (piexifjs) and its capture time and GPS block are written back into the new
 * JPEG; orientation is applied to the pixels (createImageBitmap honours it) and
 * the tag reset to 1. A photo with no capture time gets the file's own date; a
 * photo just taken with the camera and carrying no GPS gets the phone's position
 * at that moment, when the phone has one. PDFs and other files are sent as they are. */
export const MAX_SIDE = 1600;
export const QUALITY = 0.82;

interface ExifObject { "0th": Record<number, unknown>; Exif: Record<number, unknown>; GPS: Record<number, unknown>;
  Interop?: Record<number, unknown>; "1st"?: Record<number, unknown>; thumbnail?: unknown }

type Piexif = {
  load(data: string): ExifObject; dump(exif: ExifObject): string; insert(exif: string, jpeg: string): string;
  ImageIFD: Record<string, number>; ExifIFD: Record<string, number>; GPSIFD: Record<string, number>;
};

async function piexif(): Promise<Piexif> {
  const module = await import("piexifjs");
  return ((module as { default?: unknown }).default ?? module) as Piexif;
}

function readAsDataURL(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

function exifDate(date: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}:${p(date.getMonth() + 1)}:${p(date.getDate())} ${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}

function dms(value: number): [number, number][] {
  const abs = Math.abs(value);
  const deg = Math.floor(abs);
  const minFloat = (abs - deg) * 60;
  const min = Math.floor(minFloat);
  const sec = Math.round((minFloat - min) * 60 * 10000);
  return [[deg, 1], [min, 1], [sec, 10000]];
}

export interface Shrunk { blob: Blob; width: number; height: number; kept: { time: boolean; gps: boolean } }

/** Shrink a photo, keeping its capture time and place. Not a JPEG/PNG/WebP: null (send as is). */
export async function shrinkPhoto(file: File, position?: { lat: number; lon: number } | null): Promise<Shrunk | null> {
  if (!/^image\/(jpeg|png|webp)$/.test(file.type)) return null;
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" } as ImageBitmapOptions);
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.round(bitmap.width * scale);
  const height = Math.round(bitmap.height * scale);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d")!;
  context.fillStyle = "#fff"; // transparent PNG areas become white, not black
  context.fillRect(0, 0, width, height);
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const jpeg = await new Promise<Blob>((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("toBlob failed"))), "image/jpeg", QUALITY));

  const px = await piexif();
  let original: ExifObject = { "0th": {}, Exif: {}, GPS: {} };
  if (file.type === "image/jpeg") {
    try { original = px.load(await readAsDataURL(file)); } catch { /* no readable EXIF */ }
  }
  const exif: ExifObject = { "0th": {}, Exif: {}, GPS: {} };
  const zeroth = original["0th"] ?? {};
  for (const tag of ["Make", "Model", "DateTime"]) {
    const id = px.ImageIFD[tag];
    if (zeroth[id] !== undefined) exif["0th"][id] = zeroth[id];
  }
  exif["0th"][px.ImageIFD.Orientation] = 1; // the pixels are upright now
  const taken = original.Exif?.[px.ExifIFD.DateTimeOriginal] ?? original.Exif?.[px.ExifIFD.DateTimeDigitized];
  exif.Exif[px.ExifIFD.DateTimeOriginal] = taken ?? exifDate(new Date(file.lastModified || Date.now()));
  for (const tag of ["OffsetTimeOriginal", "SubSecTimeOriginal"]) {
    const id = px.ExifIFD[tag];
    if (id !== undefined && original.Exif?.[id] !== undefined) exif.Exif[id] = original.Exif[id];
  }
  let gps = false;
  if (original.GPS && original.GPS[px.GPSIFD.GPSLatitude] !== undefined) {
    exif.GPS = original.GPS;
    gps = true;
  } else if (position) {
    exif.GPS = {
      [px.GPSIFD.GPSVersionID]: [2, 3, 0, 0],
      [px.GPSIFD.GPSLatitudeRef]: position.lat >= 0 ? "N" : "S",
      [px.GPSIFD.GPSLatitude]: dms(position.lat),
      [px.GPSIFD.GPSLongitudeRef]: position.lon >= 0 ? "E" : "W",
      [px.GPSIFD.GPSLongitude]: dms(position.lon),
    };
    gps = true;
  }
  const withExif = px.insert(px.dump(exif), await readAsDataURL(jpeg));
  const bytes = Uint8Array.from(atob(withExif.split(",")[1]), (c) => c.charCodeAt(0));
  return { blob: new Blob([bytes], { type: "image/jpeg" }), width, height, kept: { time: taken !== undefined, gps } };
}
