/** What a client sends to set a variable. */
import * as z from 'zod';

import * as rules from '../core/rules.ts';

export const variableInputSchema = z.object({
  key: rules.variableKey,
  value: rules.jsonValue,
  secret: z.boolean().default(false),
});
export type VariableInput = z.input<typeof variableInputSchema>;
