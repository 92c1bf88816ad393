// apigw-websockets.d.ts against apigw-websockets.js: every class, method, static and property the
// declarations promise is in the module, and every public method of the module is declared. tsc
// checks a typed page against the declarations (Tests/JavaScript/tsconfig.json); this checks the
// declarations against the module, which tsc cannot.
//
//   node --test Tests/JavaScript/
//
// APIGW_CLIENT_TYPES=path/to/apigw-websockets.d.ts checks another copy of the declarations.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const resources = new URL("../../Sources/APIGatewayWebSockets/Resources/", import.meta.url);
const declarations = readFileSync(
  process.env.APIGW_CLIENT_TYPES ? resolve(process.env.APIGW_CLIENT_TYPES) : new URL("apigw-websockets.d.ts", resources),
  "utf8",
);
const module = await import(new URL("apigw-websockets.js", resources));

/** Each `export declare class` with its statics, methods and properties, read from the declarations. */
function declaredClasses(text) {
  const classes = new Map();
  for (const match of text.matchAll(/export declare class (\w+)[^{]*\{([\s\S]*?)\n\}/g)) {
    const [, name, body] = match;
    const members = { statics: new Set(), methods: new Set(), properties: new Set() };
    // Members sit two spaces in; deeper lines are a member's own parameters.
    for (const line of body.split("\n").filter((line) => /^  \S/.test(line))) {
      const trimmed = line.trim();
      if (trimmed.startsWith("//") || trimmed.startsWith("*") || trimmed.startsWith("/*")) continue;
      let found;
      if ((found = trimmed.match(/^static (\w+)\s*[(<]/))) members.statics.add(found[1]);
      else if ((found = trimmed.match(/^(\w+)\s*[(<]/)) && found[1] !== "constructor") members.methods.add(found[1]);
      else if ((found = trimmed.match(/^(?:readonly )?(\w+)\??:/))) members.properties.add(found[1]);
    }
    classes.set(name, members);
  }
  return classes;
}

const classes = declaredClasses(declarations);

test("the declarations name the module's classes", () => {
  assert.deepEqual([...classes.keys()].sort(), ["GatewaySocket", "RequestError"]);
  const exported = Object.keys(module).filter((name) => typeof module[name] === "function").sort();
  assert.deepEqual(exported, [...classes.keys()].sort(), "every exported class is declared, and every declared class exported");
});

test("every declared member is in the module, and every public method is declared", () => {
  const instances = {
    GatewaySocket: new module.GatewaySocket({ url: "wss://gateway.test/production" }),
    RequestError: new module.RequestError(403, "Permission denied"),
  };
  for (const [name, members] of classes) {
    const type = module[name];
    const instance = instances[name];
    for (const method of members.statics) assert.equal(typeof type[method], "function", `${name}.${method} (static)`);
    for (const method of members.methods) assert.equal(typeof instance[method], "function", `${name}.prototype.${method}`);
    for (const property of members.properties) assert.ok(property in instance, `${name}#${property}`);
    const own = Object.getOwnPropertyNames(type.prototype).filter((key) => key !== "constructor" && typeof type.prototype[key] === "function");
    for (const method of own) assert.ok(members.methods.has(method), `${name}.prototype.${method} is not declared`);
  }
});

test("the checker is not blind: a declaration the module lacks is found", () => {
  const renamed = declaredClasses(declarations.replace("presence(channel: string)", "whoIsHere(channel: string)"));
  assert.ok(renamed.get("GatewaySocket").methods.has("whoIsHere"));
  const instance = new module.GatewaySocket({ url: "wss://gateway.test/production" });
  assert.notEqual(typeof instance.whoIsHere, "function");
});
