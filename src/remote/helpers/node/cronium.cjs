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
  const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
  const headers = { authorization: 'Bearer ' + token };
  if (body) { headers['content-type'] = 'application/json'; headers['content-length'] = body.length; }
  const r = http.request({ host: url.hostname, port: url.port, method: req.method, path: req.path, headers, agent, timeout: 30000 }, (res) => {
    const parts = [];
    res.on('data', (d) => parts.push(d));
    res.on('end', () => done({ status: res.statusCode, text: Buffer.concat(parts).toString('utf8') }));
  });
  r.on('timeout', () => r.destroy(new Error('timed out')));
  r.on('error', (err) => done({ error: err.message }));
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
  channel.port.postMessage({ method, path: '/executions/' + EXEC + '/' + resource, body });
  Atomics.wait(channel.flag, 0, 0);
  const reply = receiveMessageOnPort(channel.port).message;
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
    throw new CroniumError(parsed.message || parsed.error || 'HTTP ' + status);
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
  if (text === undefined) throw new CroniumError(what + ' needs a JSON value');
  return text;
}

const cronium = {
  CroniumError,
  input() {
    return MODE === 'bundled' ? readJson('input.json', null) : ok(api('GET', 'input'));
  },
  output(data) {
    const text = json(data, 'output');
    if (MODE === 'bundled') write('output.json', text);
    else ok(api('POST', 'output', { data }));
  },
  event() {
    return MODE === 'bundled' ? readJson('context.json', null) : ok(api('GET', 'context'));
  },
  getVariable(key) {
    if (MODE === 'bundled') {
      const value = readJson('var.' + hex(key) + '.json', undefined);
      if (value !== undefined) return value;
      try {
        return fs.readFileSync(file('var.' + hex(key) + '.raw'), 'utf8').replace(/\n$/, '');
      } catch {
        return null;
      }
    }
    const reply = api('GET', keyPath(key));
    if (reply.status === 404) return null;
    return ok(reply).value;
  },
  setVariable(key, value) {
    const text = json(value, 'setVariable');
    if (MODE === 'bundled') {
      write('var.' + hex(key) + '.json', text);
      removeQuietly('var.' + hex(key) + '.raw');
      journal('set', key);
    } else ok(api('PUT', keyPath(key), { value }));
  },
  deleteVariable(key) {
    if (MODE === 'bundled') {
      removeQuietly('var.' + hex(key) + '.json');
      removeQuietly('var.' + hex(key) + '.raw');
      journal('delete', key);
    } else ok(api('DELETE', keyPath(key)));
  },
  setCondition(condition) {
    if (typeof condition !== 'boolean') throw new CroniumError('setCondition takes true or false');
    if (MODE === 'bundled') write('condition.json', JSON.stringify(condition));
    else ok(api('POST', 'condition', { condition }));
  },
  getCondition() {
    return MODE === 'bundled' ? readJson('condition.json', null) : ok(api('GET', 'condition'));
  },
};

globalThis.cronium = cronium;
module.exports = cronium;
