/** An error as the user needs it: what happened, and what to do next. */
import type { ErrorInfo } from '../../src-main/common/contract';
import { NextSteps } from '../next-steps';

export function ErrorBox({ error, title = 'Something went wrong' }: { error: ErrorInfo; title?: string }) {
  return (
    <div className="error-box" role="alert">
      <div className="error-title">{title}</div>
      <p className="error-message">{error.message}</p>
      {(error.hint || Boolean(error.next?.length)) && (
        <div className="error-hint">
          <span className="label">What to do next:</span> {error.hint}
          <NextSteps next={error.next} />
        </div>
      )}
    </div>
  );
}
