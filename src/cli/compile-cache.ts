/**
 * Imported first by every program, so that the modules after it load with Node's compile
 * cache on (keepCompiledCode in src/base/startup-shortcuts.ts).
 */
import { startupCacheDir } from '../base/config.js';
import { keepCompiledCode } from '../base/startup-shortcuts.js';

keepCompiledCode(startupCacheDir());
