/**
 * What Linux's /proc says about a process: resident memory (VmRSS, and VmHWM, the kernel's own
 * peak) and CPU time, so the benchmark sees the operator and the control plane from outside.
 */
import { readFileSync } from "node:fs";

/** Memory is one reading of /proc/<pid>/status, in bytes. */
export interface Memory {
  rss: number;
  hwm: number;
}

/** readMemory reads VmRSS and VmHWM; undefined once the process is gone. */
export function readMemory(pid: number): Memory | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

/** clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat (100 on Linux). */
const clockTicks = 100;

/** readCpuSeconds is user + system CPU time of a process so far; undefined once it is gone. */
export function readCpuSeconds(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces: fields are counted after its closing ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clockTicks;
}

/** cpuSecondsOf reads the CPU time of named processes, and of this process under its own name. */
export function cpuSecondsOf(pids: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) out[name] = readCpuSeconds(pid) ?? NaN;
  const self = process.cpuUsage();
  out["bench client (this process)"] = (self.user + self.system) / 1e6;
  return out;
}

/** RssSample is one sample of the operator's resident memory. */
export interface RssSample {
  /** t is seconds since the sampler started. */
  t: number;
  rss: number;
}

/** RssSampler reads a process's VmRSS at a fixed interval and keeps the peak. */
export class RssSampler {
  readonly samples: RssSample[] = [];
  peakRss = 0;
  lastHwm = 0;
  private timer?: NodeJS.Timeout;
  private readonly start = performance.now();

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 250,
  ) {}

  /** begin starts sampling; the first sample is taken at once. */
  begin(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  /** sample takes one reading now and returns it. */
  sample(): Memory | undefined {
    const m = readMemory(this.pid);
    if (!m) return undefined;
    this.peakRss = Math.max(this.peakRss, m.rss);
    this.lastHwm = Math.max(this.lastHwm, m.hwm);
    this.samples.push({ t: (performance.now() - this.start) / 1000, rss: m.rss });
    return m;
  }

  /** end stops sampling. */
  end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** perSecond thins the samples to about one a second, for the JSON file. */
  perSecond(): RssSample[] {
    const out: RssSample[] = [];
    for (const s of this.samples) {
      if (out.length === 0 || s.t - out.at(-1)!.t >= 1) out.push(s);
    }
    return out;
  }
}
