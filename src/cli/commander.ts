/**
 * commander, required rather than imported: commander is CommonJS, and an ESM import of
 * it first has Node scan its source for named exports (2 ms of every start, SPEC §13).
 * The CLI takes commander's classes from here, each a value and a type as in commander.
 */
import { createRequire } from 'node:module';
import type * as Commander from 'commander';

const commander = createRequire(import.meta.url)('commander') as typeof Commander;

export const Argument = commander.Argument;
export type Argument = Commander.Argument;
export const Command = commander.Command;
export type Command = Commander.Command;
export const CommanderError = commander.CommanderError;
export type CommanderError = Commander.CommanderError;
export const InvalidArgumentError = commander.InvalidArgumentError;
export type InvalidArgumentError = Commander.InvalidArgumentError;
