/**
 * Every channel, once (after GitHub Desktop's typed channel map): each request channel with the
 * schema of its arguments and the type of its result, each event channel with its payload. The
 * channel list, the types the renderer and main use, and main's runtime checks all come from
 * this table; a channel without a schema cannot exist.
 */
import { absolutePath, text, v } from '../schema.js';
import {
  cells,
  CHECKLIST_THRESHOLD,
  FILE_PURPOSE,
  FOLDER_PURPOSE,
  id,
  JOB_REQUEST,
  NAME_PLAN_REQUEST,
  SETTINGS_PATCH,
  cards,
} from './requests.js';
import type {
  AppInfo,
  CardCandidate,
  DeleteTicket,
  DoctorReportDto,
  FlashCheck,
  JobEventDto,
  JobSummary,
  LibraryView,
  NameSuggestions,
  NextSetName,
  OutputPlan,
  PayloadStatus,
  Screen,
  SecretsStatus,
  Settings,
  VmRecreatePreview,
  VmStatusDto,
} from './views.js';

/** A request channel: its arguments' schemas, in order, and (as a type only) what it returns. */
const returns =
  <R>() =>
  <const A extends v.TupleItems>(...args: A) => ({
    args: v.strictTuple(args, 'expected an argument list'),
    result: undefined as unknown as R,
  });

export const INVOKE = {
  'app:info': returns<AppInfo>()(),
  'settings:get': returns<Settings>()(),
  'settings:set': returns<Settings>()(SETTINGS_PATCH),
  'dialog:open-file': returns<string | null>()(FILE_PURPOSE),
  'dialog:open-folder': returns<string | null>()(FOLDER_PURPOSE),
  'payload:check': returns<PayloadStatus>()(absolutePath()),
  'secrets:status': returns<SecretsStatus>()(),
  'secrets:import': returns<SecretsStatus>()(absolutePath()),
  'secrets:forget': returns<SecretsStatus>()(),
  'names:suggest': returns<NameSuggestions>()(),
  'names:plan': returns<OutputPlan>()(NAME_PLAN_REQUEST),
  'names:next-set': returns<NextSetName>()(text({ max: 80 })),
  'library:list': returns<LibraryView>()(),
  /** Lowers (or raises) a count check's threshold in the library's checklist; returns its path. */
  'checklist:set-threshold': returns<string>()(CHECKLIST_THRESHOLD),
  'library:reveal': returns<null>()(absolutePath()),
  'library:delete-request': returns<DeleteTicket>()(absolutePath()),
  'library:delete': returns<null>()(absolutePath(), id()),
  'cards:list': returns<CardCandidate[]>()(),
  'cards:identify': returns<CardCandidate>()(absolutePath()),
  'flash:check': returns<FlashCheck[]>()(absolutePath(), cards()),
  'jobs:start': returns<JobSummary>()(JOB_REQUEST),
  'jobs:cancel': returns<null>()(id()),
  'jobs:list': returns<JobSummary[]>()(),
  'vm:status': returns<VmStatusDto>()(),
  'vm:doctor': returns<DoctorReportDto>()(),
  /** What recreating the VM would delete (nothing is changed). */
  'vm:recreate-preview': returns<VmRecreatePreview>()(),
  'terminal:open': returns<{ id: string; title: string }>()(cells(), cells()),
  'terminal:input': returns<null>()(id(), text({ max: 65536 })),
  'terminal:resize': returns<null>()(id(), cells(), cells()),
  'terminal:close': returns<null>()(id()),
};

type Table = typeof INVOKE;
export type InvokeChannel = keyof Table;
export type InvokeArgs<K extends InvokeChannel> = v.InferOutput<Table[K]['args']>;
export type InvokeResult<K extends InvokeChannel> = Table[K]['result'];
export type InvokeMap = { [K in InvokeChannel]: { args: InvokeArgs<K>; result: InvokeResult<K> } };

export interface EventMap {
  'jobs:event': JobEventDto;
  /** Something in the library changed (a job finished, an item was deleted). */
  'library:changed': { reason: string };
  'terminal:data': { id: string; data: string };
  'terminal:exit': { id: string; exitCode: number };
  /** The application menu asks the renderer to show a screen. */
  'menu:navigate': { screen: Screen };
}
export type EventChannel = keyof EventMap;

// A Record over the union makes the compiler refuse an event missing from this list.
const EVENTS: Record<EventChannel, true> = {
  'jobs:event': true,
  'library:changed': true,
  'terminal:data': true,
  'terminal:exit': true,
  'menu:navigate': true,
};

export const INVOKE_CHANNELS = Object.freeze(Object.keys(INVOKE) as InvokeChannel[]);
export const EVENT_CHANNELS = Object.freeze(Object.keys(EVENTS) as EventChannel[]);

export function isInvokeChannel(c: unknown): c is InvokeChannel {
  return typeof c === 'string' && Object.prototype.hasOwnProperty.call(INVOKE, c);
}

export function isEventChannel(c: unknown): c is EventChannel {
  return typeof c === 'string' && Object.prototype.hasOwnProperty.call(EVENTS, c);
}
