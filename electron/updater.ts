/**
 * Updates of the packaged app (issue 11 part 9): electron-updater checks the feed the release workflow
 * publishes (electron-builder.yml `publish`: GitHub releases; electron-builder writes it into the app as
 * resources/app-update.yml), the user is told what is new and asked, and only then is the update
 * downloaded and installed. A setting, kept in the data directory, turns the automatic check off.
 *
 * Everything Electron and electron-updater provide is injected (UpdaterLike, UpdateShell), so the wiring
 * runs in tests against fakes and a local feed.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What electron-updater says about a release (its UpdateInfo, the fields used here). */
export interface UpdateInfoLike {
  version: string;
  releaseName?: string | null;
  /** HTML (GitHub's release body), plain text, or with fullChangelog a note per version. */
  releaseNotes?: string | { version: string; note: string | null }[] | null;
}

/** The parts of electron-updater's AppUpdater (its `autoUpdater`) used here. */
export interface UpdaterLike {
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  logger: {
    info(message?: unknown): void;
    warn(message?: unknown): void;
    error(message?: unknown): void;
  } | null;
  /** Null when the updater is inactive (not packaged, or not an AppImage on Linux). */
  checkForUpdates(): Promise<{ isUpdateAvailable?: boolean; updateInfo: UpdateInfoLike } | null>;
  downloadUpdate(): Promise<unknown>;
  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void;
}

/** What a person answers when told of a new version. */
export interface OfferAnswer {
  install: boolean;
  /** Ticked "Don't check for updates automatically". */
  stopChecking: boolean;
}

/** The questions asked of the person (message boxes in the app). */
export interface UpdateDialogs {
  offer(offer: { version: string; current: string; notes: string }): Promise<OfferAnswer>;
  /** The update is downloaded: restart now (true), or install when the app quits (false). */
  restart(version: string): Promise<boolean>;
  /** The answer to a check the person asked for: nothing new, or why it failed. */
  inform(message: string): Promise<void>;
}

export interface UpdateLog {
  info(message: string): void;
  warn(message: string): void;
}

/** Whether the app checks for updates on its own; a JSON file (default: on). */
export class UpdateSettings {
  private readonly file: string;
  private readonly log: UpdateLog | undefined;

  constructor(file: string, log?: UpdateLog) {
    this.file = file;
    this.log = log;
  }

  /** True unless turned off; an unreadable or damaged file counts as on (and is said in the log). */
  get checkAutomatically(): boolean {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return true;
    }
    try {
      const parsed = JSON.parse(text) as { checkAutomatically?: unknown };
      return parsed.checkAutomatically !== false;
    } catch {
      this.log?.warn(`${this.file} is not valid JSON: checking for updates as by default`);
      return true;
    }
  }

  /** Writes the setting (to a temporary file renamed over the old one, so it is never half-written). */
  setCheckAutomatically(on: boolean): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify({ checkAutomatically: on }, null, 2) + '\n');
    renameSync(temp, this.file);
  }
}

/** How a check ended. */
export type UpdateOutcome = 'off' | 'inactive' | 'none' | 'declined' | 'installing' | 'on-quit' | 'failed';

const NOTES_MAX = 1500;

/**
 * A release's notes as plain text for a message box: GitHub's HTML reduced to its text (paragraphs and
 * list items on lines of their own), cut at 1,500 characters.
 */
export function whatIsNew(info: UpdateInfoLike): string {
  const notes = info.releaseNotes;
  const raw = Array.isArray(notes)
    ? notes.map((n) => `${n.version}: ${n.note ?? ''}`).join('\n')
    : (notes ?? '');
  const text = raw
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<li[^>]*>/gi, '• ')
    .replace(/<\/(p|li|h[1-6]|ul|ol|div)>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  if (!text) return info.releaseName ? `${info.releaseName} (no release notes).` : 'No release notes.';
  return text.length > NOTES_MAX ? `${text.slice(0, NOTES_MAX - 1)}…` : text;
}

/**
 * The update flow: check, tell what is new, and download and install only when the person agrees. Never
 * downloads on its own (autoDownload off) nor installs an update nobody agreed to (autoInstallOnAppQuit
 * off until they do).
 */
export class Updates {
  private readonly updater: UpdaterLike;
  private readonly settings: UpdateSettings;
  private readonly dialogs: UpdateDialogs;
  private readonly current: string;
  private readonly log: UpdateLog;
  private busy: Promise<UpdateOutcome> | null = null;
  /** Called after the setting changed (the menu shows it). */
  onSettingChange: (() => void) | null = null;

  constructor(options: {
    updater: UpdaterLike;
    settings: UpdateSettings;
    dialogs: UpdateDialogs;
    currentVersion: string;
    log: UpdateLog;
  }) {
    this.updater = options.updater;
    this.settings = options.settings;
    this.dialogs = options.dialogs;
    this.current = options.currentVersion;
    this.log = options.log;
    this.updater.autoDownload = false;
    this.updater.autoInstallOnAppQuit = false;
    this.updater.logger = {
      info: (m) => this.log.info(`updater: ${String(m)}`),
      warn: (m) => this.log.warn(`updater: ${String(m)}`),
      error: (m) => this.log.warn(`updater: ${String(m)}`),
    };
  }

  get checkAutomatically(): boolean {
    return this.settings.checkAutomatically;
  }

  setCheckAutomatically(on: boolean): void {
    this.settings.setCheckAutomatically(on);
    this.log.info(`automatic update checks turned ${on ? 'on' : 'off'}`);
    this.onSettingChange?.();
  }

  /**
   * Checks once (a second call while one is going gets the same answer). `manual`: the person asked (the
   * menu), so the setting does not stop it and "nothing new" or a failure is said in a message box;
   * otherwise a failure only goes to the log.
   */
  check({ manual = false } = {}): Promise<UpdateOutcome> {
    this.busy ??= this.run(manual).finally(() => (this.busy = null));
    return this.busy;
  }

  private async run(manual: boolean): Promise<UpdateOutcome> {
    if (!manual && !this.settings.checkAutomatically) return 'off';
    let info: UpdateInfoLike;
    try {
      const result = await this.updater.checkForUpdates();
      if (!result) {
        if (manual)
          await this.dialogs.inform(
            'This copy of Cronium cannot update itself; install new versions by hand.',
          );
        return 'inactive';
      }
      if (result.isUpdateAvailable === false) {
        if (manual) await this.dialogs.inform(`Cronium ${this.current} is the newest version.`);
        return 'none';
      }
      info = result.updateInfo;
    } catch (err) {
      return this.failed('could not check for updates', err, manual);
    }
    const answer = await this.dialogs.offer({
      version: info.version,
      current: this.current,
      notes: whatIsNew(info),
    });
    if (answer.stopChecking) this.setCheckAutomatically(false);
    if (!answer.install) {
      this.log.info(`update to ${info.version} declined`);
      return 'declined';
    }
    try {
      await this.updater.downloadUpdate();
    } catch (err) {
      return this.failed(`could not download version ${info.version}`, err, true);
    }
    // Agreed to: installed now, or when the app quits.
    this.updater.autoInstallOnAppQuit = true;
    if (await this.dialogs.restart(info.version)) {
      this.log.info(`installing ${info.version} and restarting`);
      this.updater.quitAndInstall(false, true);
      return 'installing';
    }
    this.log.info(`${info.version} will be installed when the app quits`);
    return 'on-quit';
  }

  private async failed(what: string, err: unknown, tell: boolean): Promise<UpdateOutcome> {
    const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    this.log.warn(message);
    if (tell) await this.dialogs.inform(`Cronium ${message}.`);
    return 'failed';
  }
}

/** Electron's dialog.showMessageBox, as the update dialogs use it. */
export type ShowMessageBox = (options: {
  type: 'info' | 'warning';
  title: string;
  message: string;
  detail?: string;
  buttons: string[];
  defaultId: number;
  cancelId: number;
  checkboxLabel?: string;
  checkboxChecked?: boolean;
}) => Promise<{ response: number; checkboxChecked?: boolean }>;

/** The update dialogs as message boxes. */
export function messageBoxDialogs(show: ShowMessageBox): UpdateDialogs {
  return {
    async offer({ version, current, notes }) {
      const { response, checkboxChecked } = await show({
        type: 'info',
        title: 'Update available',
        message: `Cronium ${version} is available (you have ${current}).`,
        detail: `What's new:\n\n${notes}`,
        buttons: ['Download and install', 'Not now'],
        defaultId: 0,
        cancelId: 1,
        checkboxLabel: "Don't check for updates automatically",
        checkboxChecked: false,
      });
      return { install: response === 0, stopChecking: checkboxChecked === true };
    },
    async restart(version) {
      const { response } = await show({
        type: 'info',
        title: 'Update ready',
        message: `Cronium ${version} is downloaded.`,
        detail:
          'Restart now to install it (running jobs are cancelled first), or it is installed when you quit.',
        buttons: ['Restart now', 'When I quit'],
        defaultId: 0,
        cancelId: 1,
      });
      return response === 0;
    },
    async inform(message) {
      await show({ type: 'info', title: 'Updates', message, buttons: ['OK'], defaultId: 0, cancelId: 0 });
    },
  };
}

/** A menu item as Electron's Menu.buildFromTemplate takes it (the fields used here). */
export interface MenuItemLike {
  label?: string;
  role?: string;
  type?: 'normal' | 'separator' | 'checkbox';
  checked?: boolean;
  submenu?: MenuItemLike[];
  click?: (item: { checked: boolean }) => void;
}

/**
 * The application menu: Electron's standard menus, and under Help "Check for Updates…" and the setting
 * "Check for Updates Automatically".
 */
export function updateMenu(updates: Updates, platform: NodeJS.Platform = process.platform): MenuItemLike[] {
  return [
    ...(platform === 'darwin' ? [{ role: 'appMenu' }] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        { label: 'Check for Updates…', click: () => void updates.check({ manual: true }) },
        {
          label: 'Check for Updates Automatically',
          type: 'checkbox',
          checked: updates.checkAutomatically,
          click: (item) => updates.setCheckAutomatically(item.checked),
        },
      ],
    },
  ];
}

/** What startUpdates needs from Electron (injected: tests pass fakes). */
export interface UpdateShell {
  showMessageBox: ShowMessageBox;
  setMenu(template: MenuItemLike[]): void;
  /** electron-updater's autoUpdater, loaded on demand (only the packaged app has a feed to check). */
  loadUpdater(): Promise<UpdaterLike>;
}

/**
 * electron-updater's `autoUpdater` from its module namespace, however it was loaded: a bundle gives the
 * named export; Node's ES-module loader gives the CommonJS exports as `default` only (its getter is not
 * detected as a named export). Reading it creates the updater for this platform.
 */
export function autoUpdaterOf(module: object): UpdaterLike {
  const m = module as { autoUpdater?: UpdaterLike; default?: { autoUpdater?: UpdaterLike } };
  const updater = m.autoUpdater ?? m.default?.autoUpdater;
  if (!updater) throw new Error('electron-updater has no autoUpdater');
  return updater;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Wires updates into the packaged app: the menu, a check now and one a day (each skipped while the
 * setting is off). Returns the flow and a stop function for the daily timer.
 */
export async function startUpdates(options: {
  shell: UpdateShell;
  settingsFile: string;
  currentVersion: string;
  log: UpdateLog;
}): Promise<{ updates: Updates; first: Promise<UpdateOutcome>; stop: () => void }> {
  const { shell, log } = options;
  const updates = new Updates({
    updater: await shell.loadUpdater(),
    settings: new UpdateSettings(options.settingsFile, log),
    dialogs: messageBoxDialogs(shell.showMessageBox),
    currentVersion: options.currentVersion,
    log,
  });
  shell.setMenu(updateMenu(updates));
  updates.onSettingChange = () => shell.setMenu(updateMenu(updates));
  const first = updates.check();
  const timer = setInterval(() => void updates.check(), DAY_MS);
  timer.unref();
  return { updates, first, stop: () => clearInterval(timer) };
}
