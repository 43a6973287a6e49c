/** Importing this module registers every experiment (side-effect imports, one per experiment). */
export {};
import './sampling.js';
import './slicing.js';
import './tman.js';
import './aggregation.js';
import './count.js';
import './slices.js';
import './suite.js';
