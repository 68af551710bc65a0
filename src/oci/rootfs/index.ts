// The rootfs module's public surface: flatten layers into a RootfsView whose
// file bytes live in a content-addressed store.
export { buildRootfs, type BuildRootfsOptions, type RootfsProgress } from "./flatten.js";
export { ContentStore, defaultContentDirectory } from "./content-store.js";
export { createRootfsView } from "./view.js";
export type * from "./types.js";
