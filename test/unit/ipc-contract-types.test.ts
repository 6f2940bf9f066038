// The IPC contract restates the core's result shapes as DTOs (the renderer imports no core code).
// This file ties each DTO to the core type it restates, at the type level: a field added, renamed
// or retyped on one side only is a type error here. tsconfig.json does not cover test/, so the
// first test compiles this file with the project's compiler options and fails on any error.
// `.branded` compares property by property, so an intersection (`Omit<…> & {…}`) equals the
// interface with the same fields.
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type {
  ArtifactKind,
  CardFlashResultDto,
  CardRef,
  CardState,
  CheckResultDto,
  CloneResultDto,
  ErrorInfo,
  FileSum,
  FlashResultDto,
  InsertResultDto,
  InspectionDto,
  JobState,
  LibraryItem,
  PartitionDto,
  Phase,
  ProgressDto,
  RestoreResultDto,
  SecretsStatus,
  ShrinkResultDto,
  StepDto,
  VerifyReportDto,
} from '../../src-main/ipc/contract.js';
import { toRef } from '../../src-main/ipc/cards.js';
import { toInspectionDto } from '../../src-main/ipc/job-specs.js';
import type * as naming from '../../src-main/core/naming.js';
import type { CardIdentity } from '../../src-main/core/cards/card.js';
import type { CheckResult } from '../../src-main/core/checklist/checklist.js';
import type { SerializedError } from '../../src-main/core/errors.js';
import type * as job from '../../src-main/core/jobs/job.js';
import type { LibraryEntry } from '../../src-main/core/library/library.js';
import type { Manifest, ManifestFile } from '../../src-main/core/library/manifest.js';
import type * as cardState from '../../src-main/core/phases/card-state.js';
import type { CloneResult } from '../../src-main/core/phases/clone.js';
import type { CardFlashResult, FlashResult } from '../../src-main/core/phases/flash.js';
import type { InsertResult } from '../../src-main/core/phases/insert.js';
import type { Inspection, PartitionInfo } from '../../src-main/core/phases/inspect.js';
import type { RestoreResult } from '../../src-main/core/phases/restore.js';
import type { ShrinkResult } from '../../src-main/core/phases/shrink.js';
import type { VerifyReport } from '../../src-main/core/phases/verify.js';
import type { VaultStatus } from '../../src-main/core/secrets/secret-vault.js';

const THIS_FILE = fileURLToPath(import.meta.url);
const ROOT = join(dirname(THIS_FILE), '..', '..');

/** The type errors of this file, compiled with tsconfig.json's options. */
function typeErrors(): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!config) throw new Error('tsconfig.json could not be read');
  const program = ts.createProgram({ rootNames: [THIS_FILE], options: { ...config.options, noEmit: true } });
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(THIS_FILE)).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file || d.start === undefined) return text;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${relative(ROOT, d.file.fileName)}:${line + 1}: ${text}`;
  });
}

describe('the IPC contract stays in step with the core', () => {
  it('this file type-checks: every DTO below equals its core type', () => {
    expect(typeErrors()).toEqual([]);
  });

  it('shared names: artifact kinds, phases, card states, job states', () => {
    expectTypeOf<ArtifactKind>().toEqualTypeOf<naming.ArtifactKind>();
    expectTypeOf<Phase>().toEqualTypeOf<naming.Phase>();
    expectTypeOf<CardState>().toEqualTypeOf<cardState.CardState>();
    expectTypeOf<JobState>().toEqualTypeOf<job.JobState>();
  });

  it('errors, steps and progress', () => {
    // The renderer takes any code as a string; the core's codes are a closed list.
    expectTypeOf<ErrorInfo>().branded.toEqualTypeOf<Omit<SerializedError, 'code'> & { code: string }>();
    expectTypeOf<SerializedError>().toExtend<ErrorInfo>();
    expectTypeOf<StepDto>().toEqualTypeOf<job.StepInfo>();
    // A progress event without its envelope; an unknown ETA is null (JSON has no undefined).
    type ProgressEvent = Extract<job.JobEvent, { type: 'progress' }>;
    expectTypeOf<ProgressDto>().branded.toEqualTypeOf<
      Omit<ProgressEvent, 'type' | 'jobId' | 'etaSeconds'> & { etaSeconds: number | null }
    >();
  });

  it('cards: a picked card is the core identity without the reader flags', () => {
    expectTypeOf<CardRef>().toEqualTypeOf<Omit<CardIdentity, 'removable' | 'readOnly'>>();
  });

  it('library: an item is the core entry without its manifest, plus what the view adds', () => {
    expectTypeOf<LibraryItem>().branded.toEqualTypeOf<
      Omit<LibraryEntry, 'manifest'> & {
        sha256?: string;
        source?: string;
        archived: boolean;
        staged: boolean;
      }
    >();
  });

  it('inspection: the core inspection without its manifest', () => {
    expectTypeOf<PartitionDto>().toEqualTypeOf<PartitionInfo>();
    expectTypeOf<NonNullable<InspectionDto['artifact']>>().toEqualTypeOf<naming.ParsedName>();
    expectTypeOf<InspectionDto>().toEqualTypeOf<Omit<Inspection, 'manifest'>>();
  });

  it('secrets: the vault status as the app shows it', () => {
    expectTypeOf<SecretsStatus>().toEqualTypeOf<VaultStatus>();
  });

  it('phase results', () => {
    expectTypeOf<FileSum>().toEqualTypeOf<ManifestFile>();
    expectTypeOf<CheckResultDto>().toEqualTypeOf<CheckResult>();
    expectTypeOf<VerifyReportDto>().toEqualTypeOf<VerifyReport>();
    expectTypeOf<InsertResultDto>().toEqualTypeOf<InsertResult>();
    expectTypeOf<CloneResultDto>().toEqualTypeOf<CloneResult>();
    expectTypeOf<ShrinkResultDto>().toEqualTypeOf<ShrinkResult>();
    expectTypeOf<RestoreResultDto>().toEqualTypeOf<RestoreResult>();
    expectTypeOf<CardFlashResultDto>().branded.toEqualTypeOf<
      Omit<CardFlashResult, 'error'> & { error?: ErrorInfo }
    >();
    expectTypeOf<FlashResultDto>().branded.toEqualTypeOf<
      Omit<FlashResult, 'cards'> & { cards: CardFlashResultDto[] }
    >();
  });

  it('toInspectionDto copies every field of an inspection but its manifest', () => {
    const inspection: Required<Inspection> = {
      path: '/dev/sdz',
      kind: 'device',
      compression: 'none',
      bytes: 64 * 2 ** 30,
      table: 'dos',
      partitions: [
        {
          number: 2,
          start: 532480,
          sectors: 4194304,
          bytes: 4194304 * 512,
          type: '83',
          fs: 'ext4',
          label: 'armbi_root',
          usedBytes: 1_500_000_000,
        },
      ],
      state: 'golden',
      stateText: 'Phase 0 golden image',
      payloadPresent: true,
      armbianLayout: true,
      truncated: false,
      problems: [],
      artifact: { kind: 'golden-image', phase: 0, version: '9.1.7', tag: 'ORIGIN', name: 'x' },
      manifest: { kind: 'golden-image' } as Manifest,
    };
    const dto = toInspectionDto(inspection);
    // toEqual takes an undefined property for a missing one.
    expect(dto).toEqual({ ...inspection, manifest: undefined });
    expect(dto).not.toHaveProperty('manifest');
    expect(dto.partitions[0]).not.toBe(inspection.partitions[0]);
  });

  it('toRef copies every field of a card identity but the reader flags', () => {
    const card: Required<CardIdentity> = {
      path: '/dev/sdz',
      kind: 'device',
      bytes: 32 * 2 ** 30,
      node: 2080,
      model: 'SD Reader',
      serial: '0123',
      removable: true,
      readOnly: false,
      medium: 'seq:7 mmc:0353445353433332',
      table: 'dos:1234abcd',
    };
    const ref = toRef(card);
    expect(ref).toEqual({ ...card, removable: undefined, readOnly: undefined });
    expect(ref).not.toHaveProperty('removable');
    expect(ref).not.toHaveProperty('readOnly');
  });
});
