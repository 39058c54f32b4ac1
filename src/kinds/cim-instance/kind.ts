/**
 * CimInstance: a check-only resource for runtime state that no file holds, such as whether
 * virtualization-based security or Credential Guard is running (Win32_DeviceGuard). `test` queries
 * the class with Get-CimInstance on a live target and judges the properties named; `set` never
 * changes anything (the result says check-only); on a snapshot it is not evaluated. No store: it
 * reads the live system itself and needs no snapshot file.
 */
import type { KindUnit, KindView, ResolvedResource, ResourceKind } from '../kind.js';

/** What a property must hold; `anyOf` alone, or any of the others together (all must hold). */
export interface CimExpectation {
  equals?: CimScalar;
  oneOf?: CimScalar[];
  atLeast?: number;
  atMost?: number;
  /** The property is an array holding each of these. */
  contains?: CimScalar[];
  anyOf?: CimExpectation[];
}
export type CimScalar = number | string | boolean;

export interface CimInstanceSpec {
  namespace: string;
  className: string;
  /** Property name -> what it must hold, in document order. */
  expect: [string, CimExpectation][];
}

// CIM names are identifiers; namespaces are identifiers joined by backslashes. Nothing else reaches
// the query (and what does reaches it as data, never as code).
const NAME = '^[A-Za-z_][A-Za-z0-9_]*$';
const NAMESPACE = '^[A-Za-z_][A-Za-z0-9_]*(\\\\[A-Za-z_][A-Za-z0-9_]*)*$';

const scalar = { type: ['integer', 'string', 'boolean'] };
const scalars = { type: 'array', minItems: 1, items: scalar };
const tests = {
  equals: { ...scalar, description: 'The property is exactly this (text compared ignoring case).' },
  oneOf: { ...scalars, description: 'The property is one of these.' },
  atLeast: { type: 'integer', description: 'The property is a number, this or greater.' },
  atMost: { type: 'integer', description: 'The property is a number, this or less.' },
  contains: { ...scalars, description: 'The property is a list holding every one of these, e.g. SecurityServicesRunning contains 1 (Credential Guard).' },
};
const expectationSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    ...tests,
    anyOf: {
      type: 'array',
      minItems: 1,
      description: 'At least one of these holds.',
      items: { type: 'object', additionalProperties: false, minProperties: 1, properties: tests },
    },
  },
};

export const cimInstanceKind: ResourceKind = {
  type: 'CimInstance',
  description: 'Check only: a CIM class queried on the live target (Get-CimInstance) and the values its properties must hold. Set never changes it; on a snapshot it is not evaluated.',
  overrideKeys: ['expect'],
  propertiesSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['namespace', 'className', 'expect'],
    properties: {
      namespace: { type: 'string', pattern: NAMESPACE, description: 'The CIM namespace, e.g. root\\Microsoft\\Windows\\DeviceGuard (root\\cimv2 for most Win32_ classes).' },
      className: { type: 'string', pattern: NAME, description: 'The CIM class, e.g. Win32_DeviceGuard.' },
      expect: {
        type: 'object',
        minProperties: 1,
        propertyNames: { pattern: NAME },
        additionalProperties: expectationSchema,
        description: 'Property name -> what it must hold (equals, oneOf, atLeast, atMost, contains, anyOf). Every instance the query returns must meet every property.',
      },
    },
  },
  resolve(props, ctx) {
    // The document reader gives integers as bigint; CIM numbers here are plain JSON numbers.
    let unsafe: (string | number)[] | undefined;
    const plain = (v: unknown, path: (string | number)[]): unknown => {
      if (typeof v === 'bigint') {
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) unsafe ??= path;
        return Number(v);
      }
      if (Array.isArray(v)) return v.map((x, i) => plain(x, [...path, i]));
      if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x, [...path, k])]));
      return v;
    };
    const expect = Object.entries(plain(props.expect, ['expect']) as Record<string, CimExpectation>);
    if (unsafe) {
      ctx.error(unsafe, 'invalid-value', `numbers here are at most ${Number.MAX_SAFE_INTEGER} in size`);
      return undefined;
    }
    for (const [name, e] of expect) {
      for (const alternative of [e, ...(e.anyOf ?? [])]) {
        if (alternative.atLeast !== undefined && alternative.atMost !== undefined && alternative.atLeast > alternative.atMost) {
          ctx.error(['expect', name, 'atMost'], 'invalid-value', `atMost ${alternative.atMost} is below atLeast ${alternative.atLeast}: no value can comply`);
          return undefined;
        }
      }
    }
    return cimResource({ namespace: props.namespace as string, className: props.className as string, expect });
  },
};

function cimResource(spec: CimInstanceSpec): ResolvedResource<CimInstanceSpec> {
  const names = spec.expect.map(([n]) => n.toLowerCase()).sort().join(',');
  return {
    kind: 'CimInstance',
    identity: `ciminstance:${spec.namespace.toLowerCase()}:${spec.className.toLowerCase()}:${names}`,
    target: `CIM ${spec.namespace}:${spec.className}`,
    spec,
  };
}

/** The runtime's form of an expectation (Test-WsCimExpectation): PascalCase keys, only those given. */
function psExpectation(e: CimExpectation): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (e.equals !== undefined) out.Equals = e.equals;
  if (e.oneOf) out.OneOf = e.oneOf;
  if (e.atLeast !== undefined) out.AtLeast = e.atLeast;
  if (e.atMost !== undefined) out.AtMost = e.atMost;
  if (e.contains) out.Contains = e.contains;
  if (e.anyOf) out.AnyOf = e.anyOf.map(psExpectation);
  return out;
}

const word = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? `{${v.map(word).join(', ')}}` : v === null || v === undefined ? 'null' : String(v));

/** An expectation in words: "contains 1", "equals 2", "one of 1, 3", "(equals 1 or at least 3)". */
function expectationText(e: Record<string, unknown>): string {
  const parts: string[] = [];
  if ('equals' in e) parts.push(`equals ${word(e.equals)}`);
  if (Array.isArray(e.oneOf)) parts.push(`one of ${e.oneOf.map(word).join(', ')}`);
  if ('atLeast' in e) parts.push(`at least ${word(e.atLeast)}`);
  if ('atMost' in e) parts.push(`at most ${word(e.atMost)}`);
  if (Array.isArray(e.contains)) parts.push(`contains ${e.contains.map(word).join(', ')}`);
  if (Array.isArray(e.anyOf)) parts.push(`(${e.anyOf.map((a) => expectationText(a as Record<string, unknown>)).join(' or ')})`);
  return parts.join(' and ');
}

/**
 * A CIM view in words (Format-WsCimInstanceStateText): `no instance` when the query returned none;
 * each property as `Name = value` (actual; lists in braces, text in JSON quotes) or `Name <expectation>`
 * (desired), in ordinal order of their names, joined by "; ".
 */
export function cimStateText(view: KindView): string {
  if (view.ensure === 'Absent') return 'no instance';
  const properties = (view.properties ?? {}) as Record<string, unknown>;
  const parts = Object.keys(properties).sort().map((name) => [name, properties[name]] as const).map(([name, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? `${name} ${expectationText(v as Record<string, unknown>)}` : `${name} = ${word(v)}`,
  );
  return parts.length ? parts.join('; ') : 'no property';
}

export const cimInstanceUnit: KindUnit<CimInstanceSpec> = {
  kind: 'CimInstance',
  store: null,
  checkOnly: true,
  documentTypes: [cimInstanceKind],
  sameDesired: (a, b) => JSON.stringify(a.expect) === JSON.stringify(b.expect),
  wantsPresent: () => true,
  row(r) {
    return { Namespace: r.spec.namespace, ClassName: r.spec.className, Ensure: 'Present', ...this.desiredColumns(r.spec, r.policy) };
  },
  desiredColumns(spec) {
    return { Expect: spec.expect.map(([name, e]) => ({ Property: name, Test: psExpectation(e), View: e })) };
  },
  commentLines(r) {
    return [`Check only: Get-CimInstance -Namespace ${r.spec.namespace} -ClassName ${r.spec.className}`, ...r.spec.expect.map(([name, e]) => `  ${name} ${expectationText(e as Record<string, unknown>)}`)];
  },
  desiredView(spec) {
    return { properties: Object.fromEntries(spec.expect) };
  },
  area: () => 'Runtime state',
  stateText: cimStateText,
  // Never changed, so never backed up.
  rollbackResources: () => ({ resources: [], unsupported: [] }),
};
