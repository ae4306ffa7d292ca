import { jsonrepair } from 'jsonrepair';

/**
 * Bounds on reading an untrusted reply. Every candidate start may be re-read to the end of the reply (by the bracket
 * scan and by jsonrepair), so the work is roughly characters × candidates: capping both keeps one pathological reply
 * (megabytes of text, or prose full of brackets) from stalling the activity, and it limits how far the reader goes
 * looking for something the model may not have meant as its answer. A structured reply is a few thousand characters
 * at most (`maxOutputTokens` bounds it), so neither cap is reached by a real answer.
 */
const MAX_REPLY_CHARS = 100_000;
const MAX_CANDIDATES = 8;
/** jsonrepair recurses once per nesting level; a candidate deeper than this is refused before it can exhaust the stack. */
const MAX_DEPTH = 256;

type Candidate = { value: unknown; end: number } | { error: string };

/**
 * Reads the JSON object or array out of a model's text reply.
 *
 * Models answer a structured-output request with more than the JSON: a Markdown code fence, a sentence before and
 * after it, a trailing comma, single quotes, a missing closing brace. All of that is still what they meant, so it is
 * read rather than sent back for repair:
 *   - a reply that is plain JSON is parsed as is;
 *   - otherwise each `{` or `[` (up to MAX_CANDIDATES of them) is tried as the start of the answer: the bracket scan
 *     below finds where that value ends, and jsonrepair repairs the text between.
 * Only an object or an array counts as a structured answer. A reply that is prose ("I cannot help with that") is
 * reported, not guessed at, so the workflow can ask for a repair.
 *
 * Why a library: repairing JSON correctly is subtle (quotes inside strings, escapes, comments, Python constants,
 * truncated values, fences) and hand-written regexes get it wrong in ways that pass tests. jsonrepair is small,
 * dependency-free and well kept, with a large test suite. What it does not do is find a value inside prose: it reads
 * a whole document, so trailing prose either makes it fail or, after a newline, is folded into a newline-delimited
 * JSON array (`{"a":1}\nThanks!` becomes `[{"a":1},"Thanks!"]`). That one job, deciding where a candidate ends, is
 * done here, by a string-aware bracket count; every repair is left to jsonrepair.
 *
 * Note that jsonrepair also completes truncated JSON (`{"a":` becomes `{"a":null}`), so a reply cut off by the token
 * limit would come back parsed: adapters read replies through `readReply`, which refuses a reply the provider says
 * was cut off before anything is repaired.
 */
export function extractJson(text: string): { parsed: unknown; parseError: string | null } {
  const trimmed = text.trim();
  if (trimmed.length === 0) return { parsed: null, parseError: 'the reply was empty' };
  if (trimmed.length > MAX_REPLY_CHARS) {
    return {
      parsed: null,
      parseError: `the reply is ${trimmed.length} characters long; replies over ${MAX_REPLY_CHARS} characters are not read`,
    };
  }

  let whole: unknown;
  try {
    whole = JSON.parse(trimmed);
    if (isStructured(whole)) return { parsed: whole, parseError: null };
  } catch {
    // Not plain JSON: look for the answer inside the reply.
  }

  // Objects are preferred to arrays: every structured answer Governor asks for is an object (OpenAI strict schemas
  // and Anthropic tool inputs must be), while bracketed prose such as a footnote "[1]" or "[citation needed]" reads
  // as an array. So the first object wins; an array is taken only when no object was found, and only if it starts
  // the reply or a code fence. An array in running prose is far likelier a footnote than an answer.
  let firstArray: unknown = null;
  let lastError: string | null = null;
  let tried = 0;
  for (let start = nextOpening(trimmed, 0); start !== -1 && tried < MAX_CANDIDATES; tried++) {
    const found = readCandidate(trimmed, start);
    if ('error' in found) {
      lastError = found.error;
      start = nextOpening(trimmed, start + 1);
      continue;
    }
    if (!Array.isArray(found.value)) return { parsed: found.value, parseError: null };
    if (start === 0 || opensFence(trimmed, start)) firstArray ??= found.value;
    else lastError = `the brackets at position ${start} are part of the prose, not an answer`;
    // Brackets inside an array that was read are part of it, not candidates of their own.
    start = nextOpening(trimmed, found.end);
  }
  if (firstArray !== null) return { parsed: firstArray, parseError: null };

  if (whole !== undefined) {
    return { parsed: null, parseError: `the reply is a JSON ${whole === null ? 'null' : typeof whole}, not an object or array` };
  }
  if (tried === 0) return { parsed: null, parseError: 'the reply is not valid JSON: it contains no JSON object or array' };
  return { parsed: null, parseError: `the reply is not valid JSON: no object or array could be read from it (${lastError ?? 'unknown error'})` };
}

/**
 * What an adapter returns for a reply's text. A reply that ended because it reached `maxOutputTokens` (Anthropic
 * `stop_reason: "max_tokens"`, OpenAI `finish_reason: "length"`) and is not a complete tool call is never parsed:
 * repair would close the truncated object and hand the workflow a value the model never finished, whose missing
 * fields may even pass the schema. It comes back unparsed, with a parse error that says why, so the workflow's repair
 * round (or its review queue) deals with it like any other reply that is not an answer.
 */
export function readReply(text: string, reply: { readonly cutOff: boolean; readonly maxOutputTokens: number }): { parsed: unknown; parseError: string | null } {
  if (reply.cutOff) return { parsed: null, parseError: cutOffError(reply.maxOutputTokens) };
  return extractJson(text);
}

export function cutOffError(maxOutputTokens: number): string {
  return (
    `the reply was cut off at maxOutputTokens (${maxOutputTokens}) before it was complete, so it was not read ` +
    '(repairing it would invent the missing end); answer more briefly, or raise maxOutputTokens'
  );
}

function isStructured(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** Whether the text just before `start` is a code fence's opening line: three backticks and an optional language. */
function opensFence(text: string, start: number): boolean {
  return /```[\w-]*\s*$/.test(text.slice(Math.max(0, start - 40), start));
}

function nextOpening(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '{' || text[i] === '[') return i;
  }
  return -1;
}

/**
 * Reads the value that starts at `start` (a `{` or `[`). It must come back as the same kind of value it opens with:
 * an object from `{`, an array from `[`. An array from `{` means jsonrepair folded trailing lines into a
 * newline-delimited JSON array, and prose in brackets reads as a string, which is no answer either.
 */
function readCandidate(text: string, start: number): Candidate {
  const balanced = balancedEnd(text, start);
  if (balanced === TOO_DEEP) return { error: `the value at position ${start} is nested more than ${MAX_DEPTH} levels deep` };
  // No balancing bracket: the reply stops inside the value (cut off at the token limit, most often). Repairing it
  // would invent the missing end, so it is reported and the step asks for a repair instead.
  if (balanced === -1) return { error: 'it ends before the value closes (a cut-off reply)' };
  const end = balanced;
  let value: unknown;
  try {
    value = JSON.parse(jsonrepair(text.slice(start, end)));
  } catch (err) {
    return { error: (err as Error).message };
  }
  const opensArray = text[start] === '[';
  if (!isStructured(value) || Array.isArray(value) !== opensArray) {
    return { error: `the text at position ${start} does not read as ${opensArray ? 'an array' : 'an object'}` };
  }
  return { value, end };
}

/**
 * Where the value opened at `start` closes: the index just past the bracket that brings the nesting depth back to
 * zero, -1 if none does, or TOO_DEEP past MAX_DEPTH levels. Brackets inside quoted strings (double or single quotes,
 * with backslash escapes) are not counted; mismatched bracket kinds are left for jsonrepair to judge.
 */
const TOO_DEEP = -2;

function balancedEnd(text: string, start: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (quote !== null) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '{' || ch === '[') {
      if (++depth > MAX_DEPTH) return TOO_DEEP;
    } else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/**
 * OpenAI's strict structured outputs reject some JSON Schema keywords (string length bounds among them). They are
 * dropped from what is sent; the workflow's zod validation still enforces them on the reply.
 */
const OPENAI_UNSUPPORTED = new Set(['minLength', 'maxLength']);

export function toOpenAIStrictSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toOpenAIStrictSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key]) => !OPENAI_UNSUPPORTED.has(key))
      .map(([key, value]) => [key, toOpenAIStrictSchema(value)]),
  );
}
