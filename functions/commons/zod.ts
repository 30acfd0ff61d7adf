import type { z } from 'zod';

/**
 * Turns zod issues into one line that names every wrong field (`path: message; …`), for error
 * messages that travel as one line: Lambda logs, Step Functions error causes, HTTP 400 bodies,
 * CLI errors. A message that already starts with its path (the custom messages of
 * environment variables) is kept as it is.
 *
 * zod 4's `z.prettifyError` names every field too, but writes two lines per issue (`✖ message`
 * then `→ at path`), sorted by path depth; it is meant for a terminal, and would change every
 * message the handlers return today.
 */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join('.');
      return issue.message.startsWith(path) || path === '' ? issue.message : `${path}: ${issue.message}`;
    })
    .join('; ');
}
