/**
 * commander with typed options and arguments (the CLI's parser).
 * @module
 */
export * from "npm:@commander-js/extra-typings@15.1.0";
