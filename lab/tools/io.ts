/** What a simulated tool gets: its argv, streams and the lab directory. Tool modules never call process.exit. */
export interface ToolIO {
  argv: string[];
  env: NodeJS.ProcessEnv;
  labDir: string;
  stdin: () => Promise<string>;
  out: (text: string) => void;
  err: (text: string) => void;
}

/** A simulated tool: returns the exit code the real tool would. */
export type SimulatedTool = (io: ToolIO) => Promise<number>;
