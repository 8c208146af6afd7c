// The overlay's public surface: the store and the CLI import from here.
export { OverlayDevice, type OverlaySpaceUsage } from './overlay-device.ts';
export { DEFAULT_CLUSTER_BYTES, createOverlay, openOverlayDevice, readOverlayHeader, resetOverlay, type CreateOverlayOptions, type OpenOverlayOptions } from './overlay-files.ts';
export { checkOverlay, type OverlayCheckReport } from './check-overlay.ts';
export { overlaySpaceUsage, type OverlayFileUsage } from './space-usage.ts';
export { flattenOverlay, type FlattenProgress, type FlattenResult } from './flatten-overlay.ts';
export { OverlayErrorCode } from './overlay-errors.ts';
export type { OverlayHeader } from './overlay-format.ts';
export { copyOverlayFile, type CopyOverlayOptions, type CopyOverlayResult } from './copy-overlay.ts';
export { rebaseOverlay, type RebaseResult } from './rebase-overlay.ts';
