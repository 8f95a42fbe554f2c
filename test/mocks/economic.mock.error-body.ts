/** The 400 body of the e-conomic mock: e-conomic's annotated errors, shaped like the request they reject. */
import type { Json, Problem } from "./economic.mock.validate";

/** e-conomic's 400 body: the failing properties in the request's shape, each with its `errors`. */
export function validationBody(problems: Problem[]): Json {
  const errors: Json = {};
  for (const { path, errorCode, message, value } of problems) {
    const node = nodeAt(errors, path.length > 0 ? path : ["body"]);
    const list = (node.errors as Json[] | undefined) ?? [];
    list.push({
      errorCode,
      message,
      ...(value === undefined ? {} : { value }),
      developerHint: "Please check your request data.",
    });
    node.errors = list;
  }
  return {
    message: "Validation error.",
    errorCode: "E04300",
    developerHint: "Inspect validation errors and correct your request.",
    logId: crypto.randomUUID(),
    httpStatusCode: 400,
    errors,
    logTime: new Date().toISOString().slice(0, 19),
  };
}

/** The object for a path in the error tree; an index picks (or adds) the `arrayIndex` entry of the list before it. */
function nodeAt(root: Json, path: Array<string | number>): Json {
  let node = root;
  for (let i = 0; i < path.length; i++) {
    const segment = String(path[i]);
    const index = path[i + 1];
    if (typeof index !== "number") {
      node[segment] = isRecord(node[segment]) ? node[segment] : {};
      node = node[segment] as Json;
      continue;
    }
    const list = Array.isArray(node[segment]) ? (node[segment] as Json[]) : [];
    node[segment] = list;
    let entry = list.find((e) => e.arrayIndex === index);
    if (!entry) {
      entry = { arrayIndex: index };
      list.push(entry);
    }
    node = entry;
    i++;
  }
  return node;
}

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
