/**
 * Insert (Phase 0): base Armbian image + payload + secrets -> ods-atlas-golden-vN-P-TAG.img.
 * The steps of the seed in order: the base (inspected: is it really a base image?), the payload,
 * version and tag with the output name, then the build job.
 */
import { useEffect } from 'react';
import type { JobSummary } from '../../src-main/common/contract';
import { useStore } from '../store/store';
import { bytes } from '../lib/format';
import { DropZone } from './drop-zone';
import { ActionButton } from './action-button';
import { ErrorBox } from './error-box';
import { InspectionSummary } from './inspection-summary';
import { JobPanel } from './job-panel';
import { NameFields } from './name-fields';
import { OutputName } from './output-name';
import { PayloadPanel } from './payload-panel';
import { ScreenHeader } from './screen-header';

function inspectionOf(job: JobSummary | undefined) {
  return job?.outcome?.kind === 'inspect' ? job.outcome.result : null;
}

export function InsertScreen() {
  const insert = useStore((s) => s.insert);
  const inspectJob = useStore((s) => (s.insert.inspectJobId ? s.jobs[s.insert.inspectJobId] : undefined));
  const buildJob = useStore((s) => (s.insert.buildJobId ? s.jobs[s.insert.buildJobId] : undefined));
  const { setBase, pickBase, setInsertName, buildGolden, loadInsertDefaults, checkPayload, setScreen } =
    useStore.getState();
  const payloadDir = useStore((s) => s.settings?.payloadDir);
  const libraryItems = useStore((s) => s.library?.items.length ?? 0);
  const planInsert = useStore((s) => s.planInsert);

  useEffect(() => {
    void loadInsertDefaults();
  }, [loadInsertDefaults]);
  useEffect(() => {
    void checkPayload();
  }, [payloadDir, checkPayload]);
  // A finished build puts the output in the library: the same name is then taken.
  useEffect(() => {
    if (useStore.getState().insert.plan) void planInsert();
  }, [libraryItems, planInsert]);

  const inspection = inspectionOf(inspectJob);
  const isBase = inspection?.state === 'base' && inspection.armbianLayout && !inspection.truncated;
  const waiting: string[] = [];
  if (!insert.base) waiting.push('a base image');
  else if (!inspection) waiting.push('the inspection of the base image');
  else if (!isBase) waiting.push('a base Armbian image (this one is not)');
  if (!insert.payload?.ready) waiting.push('the payload and secrets');
  if (!insert.plan || insert.plan.error || insert.plan.exists) waiting.push('a valid, new version and tag');
  const building = buildJob?.state === 'running';

  return (
    <div className="screen">
      <ScreenHeader
        phase="Phase 0"
        title="Insert: build a golden image"
        subtitle="Base Armbian image + the firstboot payload + secrets → ods-atlas-golden-vN-P-TAG.img. The base image is only read, never modified."
      />

      <section className="panel step">
        <h2>
          <span className="step-no">1</span> Base Armbian image
        </h2>
        <DropZone current={insert.base} onPath={(p) => void setBase(p)} onPick={() => void pickBase()} />
        {inspectJob?.state === 'running' && <JobPanel jobId={insert.inspectJobId} />}
        {inspectJob && inspectJob.state !== 'running' && !inspection && (
          <JobPanel jobId={insert.inspectJobId} />
        )}
        {inspection && <InspectionSummary inspection={inspection} />}
        {inspection && !isBase && (
          <ErrorBox
            title="Not a base Armbian image"
            error={{
              code: 'wrong-phase',
              message: `This image looks like: ${inspection.stateText}.`,
              hint: 'Insert creates Phase 0 from the base Armbian image only: clone or shrink a provisioned card instead.',
            }}
          />
        )}
      </section>

      <section className="panel step">
        <h2>
          <span className="step-no">2</span> Payload and secrets
        </h2>
        <PayloadPanel />
      </section>

      <section className="panel step">
        <h2>
          <span className="step-no">3</span> Version and tag
        </h2>
        <NameFields
          plan={insert.plan}
          version={insert.version}
          tag={insert.tag}
          onChange={(part, value) => void setInsertName(part, value)}
          placeholders={{ version: '9.1.7', tag: 'ORIGIN' }}
        />
        <OutputName
          plan={insert.plan}
          justMade={
            buildJob?.outcome?.kind === 'insert' && buildJob.outcome.result.image === insert.plan?.path
          }
        />
      </section>

      <div className="actions">
        <ActionButton waiting={waiting} busy={building} onClick={() => void buildGolden()}>
          Build golden image
        </ActionButton>
      </div>
      {insert.error && <ErrorBox error={insert.error} />}

      <JobPanel jobId={insert.buildJobId}>
        {buildJob?.outcome?.kind === 'insert' && (
          <div className="result">
            <p>
              <strong>Golden image (Phase 0) ready:</strong>{' '}
              <span className="mono">{buildJob.outcome.result.image}</span> (
              {bytes(buildJob.outcome.result.bytes)})
            </p>
            <p className="muted mono">sha256 {buildJob.outcome.result.sha256}</p>
            <ul className="injected">
              {buildJob.outcome.result.injected.map((i) => (
                <li key={i.path}>
                  <span className="mono">{i.path}</span> <span className="muted">{i.what}</span>
                </li>
              ))}
            </ul>
            <div className="row">
              <button type="button" className="button secondary" onClick={() => setScreen('flash')}>
                Flash it
              </button>
              <button type="button" className="button secondary" onClick={() => setScreen('library')}>
                Open the library
              </button>
            </div>
          </div>
        )}
      </JobPanel>
    </div>
  );
}
