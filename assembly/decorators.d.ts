// For editors and tsc only: the SDK's compiler transform reads these decorators and removes them
// before asc sees them (see transform/configuration.ts).

/** Declares a configuration class: the transform gives it a strict reader (`readConfiguration<T>`). */
declare function configuration(...args: any[]): any;
/** The field must be present in the configuration. */
declare function required(...args: any[]): any;
/** The string (or each string of a string[]) must not be empty. */
declare function nonEmpty(...args: any[]): any;
/** The number must lie within `min` and `max`, both included. */
declare function range(min: f64, max: f64): any;
