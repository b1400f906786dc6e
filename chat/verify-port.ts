// `/mesh verify` and `/mesh schedule` go through this port: the verify/schedule client lives elsewhere
// (client/verify.ts), and chat must build and run whether or not that client is in this build.

export interface VerifyStarted {
  workflowId: string;
  message: string;
}

export interface VerifyPort {
  readonly available: boolean;
  /** checks the running mesh against blueprint `name` now */
  verifyNow(name: string, blueprintFile: string, by: { by: string; via: string }): Promise<VerifyStarted>;
  /** `every` is an interval such as `6h`, or `off` to remove the schedule */
  schedule(name: string, blueprintFile: string, every: string, by: { by: string; via: string }): Promise<{ message: string }>;
}

export const VERIFY_UNAVAILABLE = 'verify is not available in this build';

export const unavailableVerify: VerifyPort = {
  available: false,
  verifyNow: () => Promise.reject(new Error(VERIFY_UNAVAILABLE)),
  schedule: () => Promise.reject(new Error(VERIFY_UNAVAILABLE)),
};
