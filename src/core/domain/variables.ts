/** Variables scripts share through the helpers. */
export interface Variable {
  key: string;
  /** null when secret (outside the core). */
  value: unknown;
  secret: boolean;
  updatedAt: number;
  updatedBy: string;
}
