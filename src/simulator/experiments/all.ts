/** Importing this module registers every experiment (side-effect imports, one per experiment). */
export {};
