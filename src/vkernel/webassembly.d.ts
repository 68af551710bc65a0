// The slice of the WebAssembly JS API megalift uses (vkernel, link, tests). tsconfig's lib has no
// DOM and @types/node 20 does not declare the global, so it is declared here
// (WebAssembly JavaScript Interface, W3C).
declare namespace WebAssembly {
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  type ExternalKind = "function" | "table" | "memory" | "global" | "tag";
  interface ModuleExportDescriptor {
    name: string;
    kind: ExternalKind;
  }
  interface ModuleImportDescriptor {
    module: string;
    name: string;
    kind: ExternalKind;
  }
  class Module {
    constructor(bytes: Uint8Array);
    static customSections(module: Module, name: string): ArrayBuffer[];
    static exports(module: Module): ModuleExportDescriptor[];
    static imports(module: Module): ModuleImportDescriptor[];
  }
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, unknown>;
  }
  type Imports = Record<string, Record<string, unknown>>;
  class CompileError extends Error {}
  function compile(bytes: Uint8Array): Promise<Module>;
  function validate(bytes: Uint8Array): boolean;
  function instantiate(module: Module, imports?: Imports): Promise<Instance>;
}
