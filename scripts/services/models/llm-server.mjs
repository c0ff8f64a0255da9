// A local OpenAI-compatible `/v1/chat/completions` over a gguf chat model (SmolLM2-135M-Instruct),
// run on the CPU by node-llama-cpp's prebuilt binary. Started by scripts/services/models.sh, which
// installs node-llama-cpp into its own folder (not the project's node_modules) and passes it here.
//
//   node llm-server.mjs --port 18091 --model FILE.gguf --node-modules DIR [--host 127.0.0.1] [--threads 2]
//
// One completion at a time (one context sequence, its history cleared per request, so `usage`
// counts the whole prompt). Serves what an OpenAI client sends for a chat completion: messages
// (system/user/assistant), max_tokens / max_completion_tokens, temperature, top_p, seed, stop,
// response_format json_object / json_schema (as a grammar). Not served: n > 1, streaming, tools.
// Env: LLM_SERVER_API_KEY — when set, requests must carry it as a bearer token.
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '18091' },
    model: { type: 'string' },
    'model-name': { type: 'string', default: 'SmolLM2-135M-Instruct' },
    'node-modules': { type: 'string' },
    threads: { type: 'string', default: '2' },
    'context-size': { type: 'string', default: '2048' },
  },
});
if (!args.model || !args['node-modules']) {
  console.error('usage: llm-server.mjs --model FILE.gguf --node-modules DIR [--port N]');
  process.exit(2);
}

const MODEL_NAME = args['model-name'];
const DEFAULT_MAX_TOKENS = 256;
const apiKey = process.env.LLM_SERVER_API_KEY || null;

// node-llama-cpp lives outside the project's node_modules: resolve it from the folder it was installed to.
const entry = join(args['node-modules'], 'node_modules', 'node-llama-cpp', 'dist', 'index.js');
const { getLlama, LlamaChatSession } = await import(pathToFileURL(entry).href);

const t0 = performance.now();
// build: 'never' — the prebuilt binary or nothing: never compile llama.cpp on a test machine.
const llama = await getLlama({ gpu: false, build: 'never' });
const model = await llama.loadModel({ modelPath: args.model });
// threads: 2 — the default thread count on a shared 2-core machine gave ~0.3 tokens/s.
const context = await model.createContext({
  threads: Number(args.threads),
  contextSize: Number(args['context-size']),
  sequences: 1,
});
const sequence = context.getSequence();

let queue = Promise.resolve();
/** Runs completions one after another: one sequence, and two cores. */
function serial(fn) {
  const run = queue.then(fn, fn);
  queue = run.catch(() => {});
  return run;
}

class BadRequest extends Error {}

function textOf(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .filter((p) => p && p.type === 'text' && typeof p.text === 'string')
      .map((p) => p.text)
      .join('');
  }
  throw new BadRequest('message content must be a string or an array of text parts');
}

async function grammarFor(format) {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return llama.getGrammarFor('json');
  if (format.type === 'json_schema' && format.json_schema?.schema) {
    return llama.createGrammarForJsonSchema(format.json_schema.schema);
  }
  throw new BadRequest(`response_format ${format.type} is not served`);
}

async function complete(body) {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0)
    throw new BadRequest('messages must be a non-empty array');
  if (body.stream) throw new BadRequest('stream is not served');
  if ((body.n ?? 1) !== 1) throw new BadRequest('n > 1 is not served');
  const history = [];
  for (const m of messages) {
    const text = textOf(m.content ?? '');
    if (m.role === 'system' || m.role === 'developer') history.push({ type: 'system', text });
    else if (m.role === 'user') history.push({ type: 'user', text });
    else if (m.role === 'assistant') history.push({ type: 'model', response: [text] });
    else throw new BadRequest(`message role ${m.role} is not served`);
  }
  const last = history.pop();
  if (last.type !== 'user') throw new BadRequest('the last message must be the user’s');
  const grammar = await grammarFor(body.response_format);
  const stop = body.stop === undefined || body.stop === null ? [] : [body.stop].flat();

  return serial(async () => {
    await sequence.clearHistory();
    const before = sequence.tokenMeter.getState();
    const session = new LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: false });
    try {
      session.setChatHistory(history);
      const t = performance.now();
      const out = await session.promptWithMeta(last.text, {
        maxTokens: body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_MAX_TOKENS,
        temperature: body.temperature ?? 0.7,
        ...(body.top_p === undefined ? {} : { topP: body.top_p }),
        ...(body.seed === undefined ? {} : { seed: body.seed }),
        ...(grammar ? { grammar } : {}),
        ...(stop.length > 0 ? { customStopTriggers: stop } : {}),
      });
      const diff = sequence.tokenMeter.getState();
      const prompt = diff.usedInputTokens - before.usedInputTokens;
      const completion = diff.usedOutputTokens - before.usedOutputTokens;
      const text = typeof out.responseText === 'string' ? out.responseText : String(out.response ?? '');
      console.log(
        `completion: ${prompt} prompt + ${completion} completion tokens in ${Math.round(performance.now() - t)} ms`,
      );
      return {
        id: `chatcmpl-local-${Date.now().toString(36)}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: MODEL_NAME,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: text },
            finish_reason: out.stopReason === 'maxTokens' ? 'length' : 'stop',
          },
        ],
        usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      };
    } finally {
      session.dispose({ disposeSequence: false });
    }
  });
}

function send(res, status, doc) {
  const body = JSON.stringify(doc);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const error = (res, status, message, type = 'invalid_request_error') =>
  send(res, status, { error: { message, type, code: null } });

const server = createServer((rq, res) => {
  const path = (rq.url ?? '/').split('?')[0].replace(/\/+$/, '');
  if (rq.method === 'GET' && (path === '/health' || path === '/healthz' || path === '/readyz')) {
    return send(res, 200, { status: 'ok', model: MODEL_NAME });
  }
  if (apiKey && rq.headers.authorization !== `Bearer ${apiKey}`) {
    return error(res, 401, 'invalid api key', 'authentication_error');
  }
  if (rq.method === 'GET' && (path === '/v1/models' || path === '/models')) {
    return send(res, 200, { object: 'list', data: [{ id: MODEL_NAME, object: 'model', owned_by: 'local' }] });
  }
  if (rq.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/chat/completions')) {
    return error(res, 404, `no route ${rq.method} ${rq.url}`);
  }
  const chunks = [];
  rq.on('data', (c) => chunks.push(c));
  rq.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch (err) {
      return error(res, 400, `body is not JSON: ${err.message}`);
    }
    complete(body).then(
      (doc) => send(res, 200, doc),
      (err) =>
        err instanceof BadRequest
          ? error(res, 400, err.message)
          : error(res, 500, `completion failed: ${err?.message ?? err}`, 'server_error'),
    );
  });
});

server.listen(Number(args.port), args.host, () => {
  console.log(
    `llm: ${MODEL_NAME} on http://${args.host}:${args.port}/v1 (${args.threads} threads, loaded in ${Math.round(performance.now() - t0)} ms)`,
  );
});

const stop = () => {
  server.close();
  Promise.resolve()
    .then(() => context.dispose())
    .then(() => model.dispose())
    .then(() => llama.dispose())
    .finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
