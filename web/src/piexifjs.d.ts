// piexifjs ships no types; src/domain/photo.ts types the part it uses.
declare module "piexifjs";
