// The preload: context-isolated and sandboxed; exposes only the named verbs of buildBridge.
import { contextBridge, ipcRenderer } from 'electron';

import { buildBridge } from './preloadBridge.ts';

contextBridge.exposeInMainWorld('cronium', buildBridge(ipcRenderer));
