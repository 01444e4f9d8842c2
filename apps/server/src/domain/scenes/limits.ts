/** Limits of the API, in one place. */
export interface Limits {
  /** Most layers in one scene. @default 32 */
  maxLayers: number;
  /** Largest side of a drawn mask, pixels. @default 256 */
  maxMaskSize: number;
  /** Largest drawn mask upload, bytes after base64 decoding. @default 262144 */
  maxMaskBytes: number;
  /** Longest title. @default 120 */
  maxTitleLength: number;
  /** Largest page of scenes. @default 100 */
  maxPageSize: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxLayers: 32,
  maxMaskSize: 256,
  maxMaskBytes: 262_144,
  maxTitleLength: 120,
  maxPageSize: 100,
};
