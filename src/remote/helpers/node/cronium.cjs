'use strict';
// Cronium runtime helpers for Node.js, loaded with --require before the script: a global `cronium` whose
// methods return plain values (so `await cronium.input()` works too). No npm packages. In API mode a
// worker thread does the HTTP request while this thread waits on a shared flag: calls stay synchronous.
const fs = require('fs');
const path = require('path');

class CroniumError extends Error {
  constructor(message) {
    super(message);
    this.name = 'CroniumError';
  }
}

/** The app refused the call (Cronium's name); bundled mode throws it for the same refusals. */
class CroniumAPIError extends CroniumError {
  constructor(statusCode, message) {
    super(message);
    this.name = 'CroniumAPIError';
    this.statusCode = statusCode;
  }
}

/** The app did not answer in time (Cronium's name). */
class CroniumTimeoutError extends CroniumError {
  constructor(message) {
    super(message);
    this.name = 'CroniumTimeoutError';
  }
}

const MAX_OUTPUT = Number(process.env.CRONIUM_MAX_OUTPUT_BYTES || 16777216);
const MAX_VARIABLE = Number(process.env.CRONIUM_MAX_VARIABLE_BYTES || 1048576);
function fits(what, text, limit) {
  const size = Buffer.byteLength(text, 'utf8');
  if (size > limit)
    throw new CroniumAPIError(
      413,
      'the ' +
        what +
        ' is ' +
        size +
        ' bytes, over the limit of ' +
        limit +
        ' bytes (' +
        limit / 1048576 +
        ' MiB)',
    );
  return text;
}

const MODE = process.env.CRONIUM_HELPER_MODE || 'bundled';
const WORK = process.env.CRONIUM_WORK_DIR || process.cwd();
const EXEC = process.env.CRONIUM_EXECUTION_ID || '';

const WORKER_SOURCE = `
const { workerData } = require('worker_threads');
const http = require('http');
const { flag, port, endpoint, token } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const url = new URL(endpoint);
port.on('message', (req) => {
  const done = (result) => { port.postMessage(result); Atomics.store(flag, 0, 1); Atomics.notify(flag, 0); };
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  const headers = { authorization: 'Bearer ' + token };
  if (body) { headers['content-type'] = 'application/json'; headers['content-length'] = body.length; }
  const r = http.request({ host: url.hostname, port: url.port, method: req.method, path: req.path, headers, agent, timeout: 30000 }, (res) => {
    const parts = [];
    res.on('data', (d) => parts.push(d));
    res.on('end', () => done({ status: res.statusCode, text: Buffer.concat(parts).toString('utf8') }));
  });
  r.on('timeout', () => r.destroy(Object.assign(new Error('timed out'), { timedOut: true })));
  r.on('error', (err) => done({ error: err.message, timedOut: !!err.timedOut }));
  r.end(body);
});
`;

let channel = null;
function api(method, resource, body) {
  if (!channel) {
    const { Worker, MessageChannel } = require('worker_threads');
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        flag,
        port: port2,
        endpoint: process.env.CRONIUM_API_ENDPOINT,
        token: process.env.CRONIUM_API_TOKEN,
      },
      transferList: [port2],
    });
    worker.unref();
    port1.unref();
    channel = { flag, port: port1 };
  }
  const { receiveMessageOnPort } = require('worker_threads');
  Atomics.store(channel.flag, 0, 0);
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  channel.port.postMessage({ method, path: '/executions/' + EXEC + '/' + resource, body: text });
  Atomics.wait(channel.flag, 0, 0);
  const reply = receiveMessageOnPort(channel.port).message;
  if (reply.error && reply.timedOut) throw new CroniumTimeoutError('the app did not answer in time');
  if (reply.error) throw new CroniumError('the app could not be reached: ' + reply.error);
  let parsed;
  try {
    parsed = JSON.parse(reply.text);
  } catch {
    throw new CroniumError('the app sent an unreadable answer (HTTP ' + reply.status + ')');
  }
  return { status: reply.status, parsed };
}

function ok({ status, parsed }) {
  if (status < 200 || status > 299)
    throw new CroniumAPIError(status, parsed.message || parsed.error || 'HTTP ' + status);
  return parsed.data;
}

const file = (name) => path.join(WORK, '.cronium.' + name);
function readJson(name, fallback) {
  try {
    return JSON.parse(fs.readFileSync(file(name), 'utf8'));
  } catch (err) {
    if (err.code === 'ENOENT') return fallback;
    throw new CroniumError('cannot read ' + name + ': ' + err.message);
  }
}
function write(name, text) {
  const tmp = file(name) + '.tmp.' + process.pid;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file(name));
}
// The key rule of every door (src/core/rules.ts variableKey), given by the app with its message, so that
// both modes refuse a bad key here, before anything is written or sent, in the app's own words.
const KEY_PATTERN = process.env.CRONIUM_KEY_PATTERN ? new RegExp(process.env.CRONIUM_KEY_PATTERN) : null;
const KEY_ERROR = process.env.CRONIUM_KEY_ERROR || 'Invalid input: key';
function checkKey(key) {
  if (KEY_PATTERN && !(typeof key === 'string' && KEY_PATTERN.test(key)))
    throw new CroniumAPIError(400, KEY_ERROR);
  return key;
}
const hex = (key) => Buffer.from(String(key), 'utf8').toString('hex');
const keyPath = (key) => 'variables/' + encodeURIComponent(String(key));
const journal = (op, key) => fs.appendFileSync(file('changes'), op + ' ' + hex(key) + '\n');
function removeQuietly(name) {
  try {
    fs.unlinkSync(file(name));
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
}
function json(value, what) {
  const text = JSON.stringify(value);
  if (text === undefined) throw new CroniumAPIError(400, what + ' needs a JSON value');
  return text;
}
/** The last journalled operation on a key in bundled mode (how its .raw file is to be read). */
function lastOp(key) {
  let text = '';
  try {
    text = fs.readFileSync(file('changes'), 'utf8');
  } catch {
    return null;
  }
  let last = null;
  for (const line of text.split('\n')) {
    const [op, h] = line.split(' ');
    if (h === hex(key)) last = op;
  }
  return last;
}
/** A value as Bash prints it: strings raw, others as JSON, unset as empty. */
const asText = (value) =>
  value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
/** A JSON number's text (RFC 8259 section 6). */
const NUMBER_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?$/;
/** A finite number from a number or a number's text (trimmed); null for anything else. */
function numberOf(value) {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string' || !NUMBER_TEXT.test(value.trim())) return null;
  const n = Number(value.trim());
  return Number.isFinite(n) ? n : null;
}
const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];
/** Cronium's reading of a condition: booleans; numbers (0 is false); true/1/yes/on, false/0/no/off. */
function coerceCondition(value) {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value !== 0;
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.includes(word)) return true;
    if (FALSE_WORDS.includes(word)) return false;
  }
  throw new CroniumAPIError(400, 'setCondition takes true/false, 1/0, yes/no or on/off');
}

const cronium = {
  CroniumError,
  CroniumAPIError,
  CroniumTimeoutError,
  /** The run's input ({} when the run was given none, as Cronium's helpers give). */
  input() {
    const value = MODE === 'bundled' ? readJson('input.json', null) : ok(api('GET', 'input'));
    return value === null || value === undefined ? {} : value;
  },
  output(data) {
    const text = fits('output', json(data, 'output'), MAX_OUTPUT);
    if (MODE === 'bundled') {
      // A whole output replaces the fields Bash set one by one so far.
      if (fs.existsSync(file('outfields')))
        for (const name of fs.readdirSync(WORK))
          if (name.startsWith('.cronium.outfield')) fs.unlinkSync(path.join(WORK, name));
      write('output.json', text);
    } else ok(api('POST', 'output', '{"data":' + text + '}'));
  },
  event() {
    return MODE === 'bundled' ? readJson('context.json', {}) : ok(api('GET', 'context'));
  },
  getVariable(key) {
    checkKey(key);
    if (MODE === 'bundled') {
      const value = readJson('var.' + hex(key) + '.json', undefined);
      if (value !== undefined) return value;
      let text;
      try {
        text = fs.readFileSync(file('var.' + hex(key) + '.raw'), 'utf8');
      } catch {
        return null;
      }
      if (lastOp(key) === 'settext') return text;
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    }
    const reply = api('GET', keyPath(key));
    if (reply.status === 404) return null;
    return ok(reply).value;
  },
  setVariable(key, value) {
    checkKey(key);
    const text = fits('variable value', json(value, 'setVariable'), MAX_VARIABLE);
    if (MODE === 'bundled') {
      write('var.' + hex(key) + '.json', text);
      removeQuietly('var.' + hex(key) + '.raw');
      journal('set', key);
    } else ok(api('PUT', keyPath(key), '{"value":' + text + '}'));
  },
  deleteVariable(key) {
    checkKey(key);
    if (MODE === 'bundled') {
      removeQuietly('var.' + hex(key) + '.json');
      removeQuietly('var.' + hex(key) + '.raw');
      journal('delete', key);
    } else ok(api('DELETE', keyPath(key)));
  },
  /**
   * Adds a finite number (default 1; unset counts as 0) and returns the new value. API mode: one atomic
   * write in the app, so concurrent executions never lose a count. Bundled mode: journalled as an
   * operation the app applies atomically when it collects the run; the value returned is this run's view
   * (the value when it started plus its own changes).
   */
  incrementVariable(key, by = 1) {
    checkKey(key);
    const step = numberOf(by);
    if (step === null) throw new CroniumAPIError(400, 'the increment must be a finite number');
    if (MODE === 'bundled') {
      const current = cronium.getVariable(key);
      const now = asText(current).trim() === '' ? 0 : numberOf(current);
      if (now === null)
        throw new CroniumAPIError(400, 'variable "' + key + '" is not a number, so it was not incremented');
      const value = now + step;
      write('var.' + hex(key) + '.json', JSON.stringify(value));
      removeQuietly('var.' + hex(key) + '.raw');
      fs.appendFileSync(file('changes'), 'incr ' + hex(key) + ' ' + JSON.stringify(step) + '\n');
      return value;
    }
    return ok(api('POST', keyPath(key) + '/increment', { by: step })).value;
  },
  /** The text alone when the variable is unset or empty, else current + separator + text. */
  appendVariable(key, text, separator = '') {
    checkKey(key);
    if (typeof text !== 'string' || typeof separator !== 'string')
      throw new CroniumAPIError(400, 'appendVariable takes text and an optional separator');
    if (MODE === 'bundled') {
      const current = asText(cronium.getVariable(key));
      const value = current === '' ? text : current + separator + text;
      cronium.setVariable(key, value);
      return value;
    }
    return ok(api('POST', keyPath(key) + '/append', { value: text, separator })).value;
  },
  /** True when the variable is set to something that prints as non-empty (Cronium's Bash SDK's test). */
  variableExists(key) {
    return asText(cronium.getVariable(key)) !== '';
  },
  setCondition(condition) {
    const value = coerceCondition(condition);
    if (MODE === 'bundled') write('condition.json', JSON.stringify(value));
    else ok(api('POST', 'condition', { condition: value }));
  },
  getCondition() {
    return MODE === 'bundled' ? readJson('condition.json', null) : ok(api('GET', 'condition'));
  },
};
const MAX_TOOL_ACTIONS = Number(process.env.CRONIUM_MAX_TOOL_ACTIONS || 100);
/**
 * Asks the app to perform a tool action (tool "slack", "discord" or "email", action "send_message"); the
 * app sends it with the credentials it stores, which the script never sees. API mode: sent at once,
 * returns what the tool answered, throws CroniumAPIError when it was not sent. Bundled mode: queued and
 * sent when the run is collected (the execution's detail says how it went); returns {queued: true}.
 */
cronium.executeToolAction = function executeToolAction(tool, action, config) {
  const request = { tool, action, config: config === undefined || config === null ? {} : config };
  if (typeof request.config !== 'object' || Array.isArray(request.config))
    throw new CroniumAPIError(400, 'config must be a JSON object');
  const text = fits('tool action', json(request, 'executeToolAction'), MAX_VARIABLE);
  if (MODE === 'bundled') {
    let count = 0;
    try {
      count = fs.readFileSync(file('actions'), 'utf8').split('\n').filter(Boolean).length;
    } catch {
      count = 0;
    }
    if (count >= MAX_TOOL_ACTIONS)
      throw new CroniumAPIError(
        429,
        'an execution may ask for at most ' + MAX_TOOL_ACTIONS + ' tool actions',
      );
    const id = process.pid + '-' + require('crypto').randomBytes(6).toString('hex');
    write('action.' + id + '.json', text);
    fs.appendFileSync(file('actions'), id + '\n');
    return { queued: true };
  }
  return ok(api('POST', 'tool-actions', text));
};
/** Cronium's SDK: sendEmail({to, subject, body, cc, bcc, html}); `to` an address or a list. */
cronium.sendEmail = function sendEmail(options) {
  const { to, subject, body, ...extras } = options || {};
  return cronium.executeToolAction('email', 'send_message', {
    to: Array.isArray(to) ? to : [to],
    subject,
    body,
    ...extras,
  });
};
/** Cronium's SDK: sendSlackMessage({channel, text, blocks, username, icon_emoji}). */
cronium.sendSlackMessage = function sendSlackMessage(options) {
  const { channel, text, ...extras } = options || {};
  return cronium.executeToolAction('slack', 'send_message', { channel, text, ...extras });
};
/** Cronium's SDK: sendDiscordMessage({channelId, content, embeds}); a webhook posts to its own channel. */
cronium.sendDiscordMessage = function sendDiscordMessage(options) {
  const { channelId, content, ...extras } = options || {};
  return cronium.executeToolAction('discord', 'send_message', { channelId, content, ...extras });
};
cronium.getInput = cronium.input;
cronium.setOutput = cronium.output;

/**
 * `require("cronium")` gives what Cronium's SDK module gives: its class (`new Cronium()` is the same
 * helpers), every helper as a function, the `cronium` instance and the error classes.
 */
function Cronium() {
  return cronium;
}
Object.assign(Cronium, cronium, { cronium, Cronium, default: Cronium });

globalThis.cronium = cronium;
module.exports = Cronium;
