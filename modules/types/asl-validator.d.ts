/** Types for asl-validator 4, which ships none: the default export and its result. */
declare module 'asl-validator' {
  interface AslValidationError {
    readonly 'Error code': string;
    readonly Message: string;
    readonly schemaError?: { readonly instancePath: string; readonly schemaPath: string };
  }
  interface AslValidationResult {
    readonly isValid: boolean;
    readonly errors: readonly AslValidationError[];
    readonly errorsText: (separator?: string) => string;
  }
  function validator(
    definition: unknown,
    options?: { readonly checkPaths: boolean; readonly checkArn: boolean },
  ): AslValidationResult;
  export = validator;
}
