import { Testing } from 'cdktf';
import { SutureModuleStack } from './module-stack';

/** Markers around the generated inputs/outputs table (in docs/module.md and the README). */
export const DOCS_START = '<!-- module-docs:start -->';
export const DOCS_END = '<!-- module-docs:end -->';

interface VariableBlock {
  readonly type?: string;
  readonly description?: string;
  readonly default?: unknown;
  readonly nullable?: boolean;
}

interface OutputBlock {
  readonly description?: string;
}

/** The variables and outputs of the synthesised module (no assets written). */
export function moduleInterface(): {
  variables: Record<string, VariableBlock>;
  outputs: Record<string, OutputBlock>;
} {
  const config = JSON.parse(Testing.synth(new SutureModuleStack(Testing.app(), 'module'))) as {
    variable?: Record<string, VariableBlock>;
    output?: Record<string, OutputBlock>;
  };
  return { variables: config.variable ?? {}, outputs: config.output ?? {} };
}

/** A table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
}

function code(text: string): string {
  return `\`${cell(text)}\``;
}

/** The Markdown of the inputs and outputs, sorted by name, as terraform-docs lays it out. */
export function renderModuleDocs(iface: ReturnType<typeof moduleInterface>): string {
  const lines = [
    '### Inputs',
    '',
    '| Name | Description | Type | Default | Required |',
    '| --- | --- | --- | --- | :---: |',
  ];
  for (const name of Object.keys(iface.variables).sort()) {
    const variable = iface.variables[name] as VariableBlock;
    const required = !('default' in variable);
    lines.push(
      `| ${code(name)} | ${cell(variable.description ?? '')} | ${code(variable.type ?? 'any')} | ${
        required ? 'n/a' : code(JSON.stringify(variable.default))
      } | ${required ? 'yes' : 'no'} |`,
    );
  }
  lines.push('', '### Outputs', '', '| Name | Description |', '| --- | --- |');
  for (const name of Object.keys(iface.outputs).sort()) {
    lines.push(`| ${code(name)} | ${cell((iface.outputs[name] as OutputBlock).description ?? '')} |`);
  }
  return lines.join('\n');
}

/** `document` with the text between the markers replaced by `generated`. */
export function replaceBetweenMarkers(document: string, generated: string): string {
  const start = document.indexOf(DOCS_START);
  const end = document.indexOf(DOCS_END);
  if (start < 0 || end < start) throw new Error(`the document has no ${DOCS_START} … ${DOCS_END} section`);
  return `${document.slice(0, start + DOCS_START.length)}\n\n${generated}\n\n${document.slice(end)}`;
}

/**
 * The Markdown document `file` should hold: its generated section replaced, then formatted with
 * the repository's Prettier settings (so `prettier --check` and the staleness check agree).
 */
export async function updatedModuleDocs(file: string, current: string): Promise<string> {
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(replaceBetweenMarkers(current, renderModuleDocs(moduleInterface())), {
    ...options,
    filepath: file,
  });
}
