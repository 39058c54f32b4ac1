/** winstate's library API: the same operations as the CLI, typed. */
export { validateFile, validateText, type Plan, type PlannedResource, type ValidationResult } from './document/validate.js';
export { formatDiagnostic, InvalidDocumentError, type Diagnostic, type DiagnosticCode } from './document/diagnostics.js';
export { documentSchema, DOCUMENT_SCHEMA_ID } from './document/schema.js';
export { compilePlan, type CompiledScript } from './compile/emit.js';
export { psString, psLiteral, ps, PsCode } from './compile/quote.js';
export { loadCatalog, Catalog, type CatalogEntry } from './catalog/catalog.js';
export { Engine, WinstateRunError, type RunOptions } from './engine/engine.js';
export { PwshSession, type SessionOptions, type RequestResult } from './bridge/session.js';
export { locatePwsh, PwshNotFoundError } from './bridge/locate.js';
export { EXIT, exitCodeOf, type ApplyReport, type RunReport, type ResourceResult, type StateView, type PlanItem } from './engine/results.js';
export { main as cli } from './cli/cli.js';
export { VERSION } from './version.js';

import { validateFile, type Plan } from './document/validate.js';
import { InvalidDocumentError } from './document/diagnostics.js';

/** Loads and validates a document, throwing InvalidDocumentError (with every diagnostic) when it is not valid. */
export function loadDocument(file: string): Plan {
  const { plan, diagnostics } = validateFile(file);
  if (!plan) throw new InvalidDocumentError(diagnostics);
  return plan;
}
