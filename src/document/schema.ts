import { resourceKinds } from '../kinds/index.js';
import { resourceMetadataSchema } from '../kinds/info.js';

/** The longest resource name a document may give (writers that make names cut theirs to it). */
export const RESOURCE_NAME_MAX = 200;

export const DOCUMENT_SCHEMA_ID = 'urn:winstate:document:v1';

/** The document JSON Schema, assembled from each resource kind's own part. */
export function documentSchema(): Record<string, unknown> {
  const RESOURCE_KINDS = resourceKinds();
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: DOCUMENT_SCHEMA_ID,
    title: 'winstate desired-state document',
    description: 'Desired state of Windows security settings, shaped like a PowerShell DSC v3 configuration document.',
    type: 'object',
    additionalProperties: false,
    // resources or include (or both): validate.ts says so in words.
    required: ['metadata'],
    properties: {
      $schema: { type: 'string', description: 'Where editors find this schema; any path or URL naming winstate.schema.json.' },
      metadata: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: {
            type: 'string',
            pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$',
            description: 'Names the generated script (generated-ps/<name>.ps1): letters, digits, ., _ and -.',
          },
          description: { type: 'string' },
          owner: { type: 'string' },
          tags: { type: 'array', items: { type: 'string' } },
        },
      },
      include: {
        type: 'array',
        minItems: 1,
        description: 'Shipped baselines, or DISA STIG benchmarks (XCCDF files), whose settings become resources of this document (winstate baseline list names the baselines); waivers can skip or relax them by name or STIG id.',
        items: {
          // A stig include or a baseline include: each checked on its own, so errors name the right properties.
          if: { type: 'object', properties: { stig: {} }, required: ['stig'] },
          then: {
            type: 'object',
            additionalProperties: false,
            required: ['stig', 'scope'],
            properties: {
              stig: { type: 'string', minLength: 1, description: 'A DISA STIG XCCDF benchmark file, relative to this document: imported as `winstate import stig` would, every time the document is read.' },
              scope: { type: 'string', pattern: '^([Mm][Ss]|[Dd][Cc])$', description: 'The role of the servers: MS (member servers) or DC (domain controllers).' },
            },
          },
          else: {
            type: 'object',
            additionalProperties: false,
            required: ['baseline', 'scope'],
            properties: {
              baseline: { type: 'string', minLength: 1, description: 'A baseline id, e.g. cis-ws2016 or msft-ws2016 (the newest version), or id@version for an older one, e.g. cis-ws2016@1.2.0.' },
              scope: { type: 'string', pattern: '^([Mm][Ss]|[Dd][Cc])$', description: 'The role of the servers: MS (member servers) or DC (domain controllers); baselines set some values differently for each.' },
              level: { type: 'string', minLength: 1, description: 'That profile level and the ones before it, e.g. L1.' },
            },
          },
        },
      },
      resources: { type: 'array', minItems: 1, items: { $ref: '#/$defs/resource' } },
      waivers: {
        type: 'array',
        description: 'Organisation decisions to skip or relax a resource for a while, with the reason on record.',
        items: { $ref: '#/$defs/waiver' },
      },
    },
    $defs: {
      waiver: {
        type: 'object',
        additionalProperties: false,
        required: ['resource', 'justification', 'expires'],
        properties: {
          resource: { type: 'string', minLength: 1, description: 'The resource this waiver is for: its name, or a STIG id (V-, SV-, WN16-) or CIS number it cites (every resource citing it).' },
          justification: { type: 'string', minLength: 10, description: 'Why the organisation accepts this; kept in results and reports.' },
          expires: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'Last day (UTC) the waiver applies, YYYY-MM-DD; after it the resource is enforced again and the expiry is reported.' },
          approvedBy: { type: 'string' },
          override: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            description: `Instead of skipping: what to enforce meanwhile (${RESOURCE_KINDS.map((k) => `${k.type}: ${k.overrideKeys.join(', ')}`).join('; ')}).`,
            properties: {
              valueData: { type: ['string', 'integer', 'array'] },
              condition: { type: 'object' },
              absentOk: { type: 'boolean' },
              value: { type: ['string', 'integer', 'array', 'boolean'] },
              principals: { type: 'array', items: { type: 'string' } },
              mustInclude: { type: 'array', items: { type: 'string' } },
              mustExclude: { type: 'array', items: { type: 'string' } },
              success: { enum: ['enabled', 'disabled'] },
              failure: { enum: ['enabled', 'disabled'] },
            },
          },
        },
      },
      resource: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'type', 'properties'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: RESOURCE_NAME_MAX, description: 'Unique within the document; reports use it.' },
          type: { enum: RESOURCE_KINDS.map((k) => k.type) },
          description: { type: 'string' },
          acceptLockoutRisk: { type: 'string', minLength: 10, description: 'Why this resource may cut off the account a fleet run connects as (winstate --hosts): the lockout guard then records the risk instead of refusing the host.' },
          metadata: resourceMetadataSchema,
          properties: { type: 'object' },
        },
        allOf: RESOURCE_KINDS.map((kind) => ({
          if: { properties: { type: { const: kind.type } }, required: ['type'] },
          then: { properties: { properties: { $ref: `#/$defs/${kind.type}` } } },
        })),
      },
      ...Object.fromEntries(RESOURCE_KINDS.map((kind) => [kind.type, { description: kind.description, ...kind.propertiesSchema }])),
    },
  };
}
