#!/usr/bin/env node
// Checks recorded HTTP exchanges against the OpenAPI reference.
//
//   node tests/node/openapi_conformance.mjs RESPONSES.jsonl [OPENAPI.yaml]
//
// RESPONSES.jsonl holds one exchange a line, as tests/integration/harness.py
// writes them when TODOD_RESPONSE_LOG is set: {"method", "path" (with the
// query), "status", "headers" (lower-case names), "body" (text, or base64
// with "body_base64": true)}. The document defaults to docs/openapi.yaml.
//
// For each exchange: the path item is the one whose template matches the
// path without its query (a {parameter} is one non-empty segment); the
// operation is the one of the method (HEAD uses GET's, with an empty body).
// A method the path item does not document must be answered 405 as the
// path item's 405 response says, with an Allow header that lists exactly the
// documented methods (plus HEAD where GET is documented). A path no
// template matches must be answered as the document says of unknown routes:
// 404 NOT_FOUND (components.responses.NotFound). Both may also get what the
// document's introduction allows any request: 413 for a body over the limit,
// 500, and 503 from nginx (checked against the path item's own response for
// that status, else BodyTooLarge, InternalError, Unavailable). The response
// object of a documented operation is found by exact status, then
// "4XX"/"5XX", then "default"; a status not found is a failure. Then:
//   - a response without content (204, 304, ...) must have an empty body;
//   - with JSON content: Content-Type exactly application/json;
//     charset=utf-8 and a body valid against the schema (Ajv, JSON Schema
//     2020-12 as OpenAPI 3.1 uses it, ajv-formats for date-time);
//   - every documented header with required: true must be present, and a
//     documented header that is present must match its schema (a header
//     whose schema is an integer must be a string of digits).
// Exchanges outside /api/ that are not answered with JSON (the static
// site, nginx's own pages) are skipped and counted.
//
// Prints TAP: one test per (operation, status) group, with the first few
// failures of a failing group as diagnostics, then a summary. Exit status 1
// when any group fails or the input cannot be read.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import YAML from "yaml";

const HERE = dirname(fileURLToPath(import.meta.url));
const DEFAULT_DOC = join(HERE, "..", "..", "docs", "openapi.yaml");
const JSON_TYPE = "application/json; charset=utf-8";
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const SCHEMA_BASE = "https://todod.invalid/openapi/components/schemas/";
const SHOW_FAILURES = 5; // diagnostics per failing group
const SNIPPET = 300; // characters of a body shown in a diagnostic
const PATH_SHOWN = 120; // characters of a request path shown in a diagnostic
// What any request may get, whatever its path and method (see the document's
// introduction), and the component response that describes it.
const ANY_REQUEST = { 413: "BodyTooLarge", 500: "InternalError", 503: "Unavailable" };

function usage(message) {
  console.error(message);
  console.error("usage: node openapi_conformance.mjs RESPONSES.jsonl [OPENAPI.yaml]");
  process.exit(2);
}

// ---- the document ----

function pointer(doc, ref) {
  if (typeof ref !== "string" || !ref.startsWith("#/")) {
    throw new Error(`unsupported $ref ${JSON.stringify(ref)} (only local references)`);
  }
  let node = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object" || !(key in node)) {
      throw new Error(`$ref ${ref} does not resolve`);
    }
    node = node[key];
  }
  return node;
}

// A Reference Object (response, header, parameter) followed to its target.
function deref(doc, node) {
  const seen = new Set();
  while (node && typeof node === "object" && typeof node.$ref === "string") {
    if (seen.has(node.$ref)) throw new Error(`$ref cycle at ${node.$ref}`);
    seen.add(node.$ref);
    node = pointer(doc, node.$ref);
  }
  return node;
}

// A copy of a schema whose local $refs point at the component schemas as
// Ajv knows them (each one added under SCHEMA_BASE + name).
function rewriteRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== "object") return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string") {
      const m = /^#\/components\/schemas\/([^/]+)(\/.*)?$/.exec(value);
      if (!m) throw new Error(`unsupported schema $ref ${value}`);
      out[key] = SCHEMA_BASE + m[1] + (m[2] ? "#" + m[2] : "");
    } else {
      out[key] = rewriteRefs(value);
    }
  }
  return out;
}

function makeAjv(doc) {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false });
  addFormats(ajv);
  // OpenAPI 3.1's additions to the JSON Schema vocabulary.
  ajv.addVocabulary(["example", "discriminator", "xml", "externalDocs"]);
  ajv.addFormat("int32", { type: "number", validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat("int64", { type: "number", validate: (n) => Number.isInteger(n) });
  ajv.addFormat("float", { type: "number", validate: () => true });
  ajv.addFormat("double", { type: "number", validate: () => true });
  for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
    ajv.addSchema({ ...rewriteRefs(schema), $id: SCHEMA_BASE + name });
  }
  const cache = new Map();
  return (schema) => {
    let validate = cache.get(schema);
    if (!validate) {
      validate = ajv.compile(rewriteRefs(schema));
      cache.set(schema, validate);
    }
    return validate;
  };
}

// The JSON type a header's schema wants, following $refs.
function schemaType(doc, schema) {
  schema = deref(doc, schema);
  const type = schema?.type;
  if (Array.isArray(type)) return type.find((t) => t !== "null");
  return type;
}

// ---- the routes ----

function templateRegex(template) {
  const parts = template.split(/(\{[^}]+\})/).map((part) =>
    /^\{[^}]+\}$/.test(part) ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp("^" + parts.join("") + "$");
}

function makeRouter(doc) {
  const routes = Object.entries(doc.paths ?? {}).map(([template, item]) => ({
    template,
    item: deref(doc, item),
    regex: templateRegex(template),
    literal: !template.includes("{"),
  }));
  // A literal path wins over a templated one, as OpenAPI says.
  routes.sort((a, b) => Number(b.literal) - Number(a.literal));
  return (path) => routes.find((r) => r.regex.test(path)) ?? null;
}

function documentedMethods(item) {
  return METHODS.filter((m) => item[m]).map((m) => m.toUpperCase());
}

function findResponse(responses, status) {
  if (!responses) return null;
  const code = String(status);
  for (const key of [code, code[0] + "XX", code[0] + "xx", "default"]) {
    if (responses[key]) return { key, response: responses[key] };
  }
  return null;
}

// ---- checking one exchange ----

function snippet(text) {
  const s = text.length > SNIPPET ? text.slice(0, SNIPPET) + "..." : text;
  return JSON.stringify(s);
}

function ajvErrors(validate) {
  return (validate.errors ?? []).slice(0, 6)
    .map((e) => `${e.instancePath || "/"} ${e.message}` +
      (e.params && Object.keys(e.params).length ? " " + JSON.stringify(e.params) : ""));
}

function checkHeaders(doc, compile, response, headers, problems) {
  for (const [name, raw] of Object.entries(response.headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower === "content-type") continue; // OpenAPI ignores it here
    const header = deref(doc, raw);
    const value = headers[lower];
    if (value === undefined) {
      if (header.required) problems.push(`required header ${name} is missing`);
      continue;
    }
    if (!header.schema) continue;
    const type = schemaType(doc, header.schema);
    let instance = value;
    if (type === "integer") {
      if (!/^[0-9]+$/.test(value)) {
        problems.push(`header ${name}: ${JSON.stringify(value)} is not an integer (digits)`);
        continue;
      }
      instance = Number(value);
    } else if (type === "number") {
      if (!/^-?[0-9]+(\.[0-9]+)?$/.test(value)) {
        problems.push(`header ${name}: ${JSON.stringify(value)} is not a number`);
        continue;
      }
      instance = Number(value);
    } else if (type === "boolean") {
      if (value !== "true" && value !== "false") {
        problems.push(`header ${name}: ${JSON.stringify(value)} is not a boolean`);
        continue;
      }
      instance = value === "true";
    }
    const validate = compile(header.schema);
    if (!validate(instance)) {
      problems.push(`header ${name}: ${JSON.stringify(value)}: ${ajvErrors(validate).join("; ")}`);
    }
  }
}

function checkBody(doc, compile, response, exchange, problems) {
  const { headers, body } = exchange;
  const head = exchange.method === "HEAD";
  const content = response.content;
  if (!content || Object.keys(content).length === 0) {
    if (body !== "") problems.push(`body must be empty, got ${snippet(body)}`);
    return;
  }
  const type = headers["content-type"];
  const media = content["application/json"] ? "application/json" : null;
  if (!media) {
    // A text media type (the metrics' exposition format): the answer's
    // Content-Type must be the documented one exactly, and its body text.
    const text = Object.keys(content).find((m) => m.startsWith("text/"));
    if (!text) {
      problems.push(`documented content ${Object.keys(content).join(", ")} is not checked (only application/json and text/*)`);
      return;
    }
    if (type !== text) problems.push(`Content-Type ${JSON.stringify(type ?? null)}, want ${JSON.stringify(text)}`);
    if (exchange.body_base64) problems.push("body is not UTF-8");
    else if (!head && body === "") problems.push("body is empty");
    return;
  }
  if (type !== JSON_TYPE) {
    problems.push(`Content-Type ${JSON.stringify(type ?? null)}, want ${JSON.stringify(JSON_TYPE)}`);
  }
  if (head) {
    if (body !== "") problems.push(`HEAD response has a body: ${snippet(body)}`);
    return;
  }
  if (exchange.body_base64) {
    problems.push("body is not UTF-8");
    return;
  }
  let data;
  try {
    data = JSON.parse(body);
  } catch (e) {
    problems.push(`body is not JSON (${e.message}): ${snippet(body)}`);
    return;
  }
  const schema = content[media].schema;
  if (!schema) return;
  const validate = compile(schema);
  if (!validate(data)) {
    problems.push(`body does not match the schema: ${ajvErrors(validate).join("; ")}; body ${snippet(body)}`);
  }
}

// Returns { group, problems } or { skip: reason }.
function checkExchange(doc, route, compile, ex) {
  const problems = [];
  const method = String(ex.method).toUpperCase();
  const path = String(ex.path).split("?")[0].split("#")[0];
  const status = ex.status;
  const headers = ex.headers ?? {};
  const jsonAnswer = (headers["content-type"] ?? "").startsWith("application/json");

  const found = route(path);
  if (!found) {
    if (!path.startsWith("/api/") && !jsonAnswer) return { skip: "outside /api/" };
    // No path item: what the document says of unknown routes.
    const unknown = { 404: "NotFound", ...ANY_REQUEST }[status];
    const group = `unknown route -> ${status}`;
    if (!unknown) {
      return { group, problems: [`status ${status} for an unknown route; the document allows 404 NOT_FOUND (and 413/500/503)`] };
    }
    const response = deref(doc, { $ref: `#/components/responses/${unknown}` });
    checkHeaders(doc, compile, response, headers, problems);
    checkBody(doc, compile, response, { ...ex, method }, problems);
    return { group, problems };
  }

  const { template, item } = found;
  const documented = documentedMethods(item);
  const opMethod = method === "HEAD" && !item.head ? "get" : method.toLowerCase();
  const operation = METHODS.includes(opMethod) ? item[opMethod] : undefined;
  let response;
  let group;
  if (!operation) {
    group = `${method} ${template} (not documented) -> ${status}`;
    if (status !== 405 && !ANY_REQUEST[status]) {
      return { group, problems: [`${method} is not documented for ${template}: want 405 METHOD_NOT_ALLOWED`] };
    }
    const ref = documented.map((m) => item[m.toLowerCase()].responses?.[String(status)]).find(Boolean) ??
      (ANY_REQUEST[status] && { $ref: `#/components/responses/${ANY_REQUEST[status]}` });
    if (!ref) return { group, problems: [`${template} documents no ${status} response`] };
    response = deref(doc, ref);
  } else {
    const id = operation.operationId ?? `${opMethod.toUpperCase()} ${template}`;
    group = `${method === "HEAD" && opMethod === "get" ? "HEAD " : ""}${id} -> ${status}`;
    const hit = findResponse(operation.responses, status);
    if (!hit) {
      const keys = Object.keys(operation.responses ?? {}).join(", ");
      return { group, problems: [`status ${status} is not documented (documented: ${keys})`] };
    }
    response = deref(doc, hit.response);
  }
  if (status === 405) {
    // Allow lists what the path supports: the documented methods.
    const allow = headers.allow;
    if (allow !== undefined) {
      const listed = allow.split(",").map((m) => m.trim().toUpperCase()).filter(Boolean);
      const want = new Set(documented);
      const extra = listed.filter((m) => !want.has(m) && !(m === "HEAD" && want.has("GET")));
      const missing = documented.filter((m) => !listed.includes(m));
      if (extra.length || missing.length) {
        problems.push(`Allow ${JSON.stringify(allow)} does not list the documented methods ${documented.join(", ")}` +
          (extra.length ? `; extra ${extra.join(", ")}` : "") + (missing.length ? `; missing ${missing.join(", ")}` : ""));
      }
    }
  }
  checkHeaders(doc, compile, response, headers, problems);
  checkBody(doc, compile, response, { ...ex, method }, problems);
  return { group, problems };
}

// ---- main ----

function main(argv) {
  const logPath = argv[2];
  if (!logPath) usage("no response log given");
  const docPath = argv[3] ?? DEFAULT_DOC;

  let doc, lines;
  try {
    doc = YAML.parse(readFileSync(docPath, "utf8"));
  } catch (e) {
    console.log(`1..1\nnot ok 1 - read ${docPath}\n# ${e.message}`);
    return 1;
  }
  try {
    lines = readFileSync(logPath, "utf8").split("\n").filter((l) => l.trim() !== "");
  } catch (e) {
    console.log(`1..1\nnot ok 1 - read ${logPath}\n# ${e.message}`);
    return 1;
  }

  let compile, route;
  try {
    compile = makeAjv(doc);
    route = makeRouter(doc);
  } catch (e) {
    console.log(`1..1\nnot ok 1 - compile the schemas of ${docPath}\n# ${e.message}`);
    return 1;
  }

  const groups = new Map(); // name -> { total, failures: [] }
  const skipped = new Map();
  let checked = 0;
  const add = (name, failure) => {
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { total: 0, failures: [] }));
    g.total++;
    if (failure) g.failures.push(failure);
  };

  lines.forEach((line, i) => {
    let ex;
    try {
      ex = JSON.parse(line);
      if (typeof ex.method !== "string" || typeof ex.path !== "string" ||
          !Number.isInteger(ex.status) || typeof ex.body !== "string") {
        throw new Error("needs method, path, status and body");
      }
    } catch (e) {
      add("log lines", `line ${i + 1}: not an exchange (${e.message}): ${snippet(line)}`);
      return;
    }
    let result;
    try {
      result = checkExchange(doc, route, compile, ex);
    } catch (e) {
      result = { group: `${ex.method} ${ex.path} -> ${ex.status}`, problems: [`checker error: ${e.message}`] };
    }
    if (result.skip) {
      skipped.set(result.skip, (skipped.get(result.skip) ?? 0) + 1);
      return;
    }
    checked++;
    const shown = ex.path.length > PATH_SHOWN ? ex.path.slice(0, PATH_SHOWN) + "..." : ex.path;
    const where = `${ex.method} ${shown} -> ${ex.status}`;
    add(result.group, result.problems.length ? `${where}: ${result.problems.join(" | ")}` : null);
  });

  const names = [...groups.keys()].sort();
  console.log(`1..${Math.max(names.length, 1)}`);
  if (names.length === 0) console.log("not ok 1 - no exchanges to check");
  let failedGroups = 0, failedExchanges = 0;
  names.forEach((name, i) => {
    const g = groups.get(name);
    if (g.failures.length === 0) {
      console.log(`ok ${i + 1} - ${name} (${g.total})`);
      return;
    }
    failedGroups++;
    failedExchanges += g.failures.length;
    console.log(`not ok ${i + 1} - ${name} (${g.failures.length} of ${g.total} failed)`);
    for (const f of g.failures.slice(0, SHOW_FAILURES)) console.log(`#   ${f}`);
    if (g.failures.length > SHOW_FAILURES) console.log(`#   ... and ${g.failures.length - SHOW_FAILURES} more`);
  });
  const skips = [...skipped].map(([why, n]) => `${n} ${why}`).join(", ") || "none";
  console.log(`# ${lines.length} exchanges: ${checked} checked, skipped: ${skips}`);
  console.log(`# ${names.length - failedGroups} of ${names.length} groups passed; ${failedExchanges} exchanges failed`);
  return failedGroups > 0 || names.length === 0 ? 1 : 0;
}

process.exitCode = main(process.argv);
