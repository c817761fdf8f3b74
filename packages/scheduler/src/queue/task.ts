import { isAbsolute } from 'node:path'
import { z } from 'zod'

/**
 * A task on the queue: references only. The worker reads the chain's spec from the run
 * directory's run.json and its checkpoints from the run directory, which every machine mounts at
 * the same path; nothing in a task is code or a module to load.
 */
export const queueTaskSchema = z.strictObject({
  /** Bumped when the shape changes, so that a worker of another version refuses clearly. */
  v: z.literal(2),
  runId: z.string().regex(/^[\w-]+$/),
  runDir: z.string().refine(isAbsolute, 'an absolute path'),
  chain: z.string().min(1),
  from: z.int().nonnegative(),
  budgetMs: z.number().nonnegative(),
  reference: z.boolean(),
  /** The coordinator's git commit, where it runs from a checkout: a worker on another refuses the task. */
  commit: z.string().regex(/^[0-9a-f]{40}$/).optional(),
  /**
   * The SHA-256 of the coordinator's built JavaScript, where it runs from a workspace: a worker
   * whose build differs (uncommitted changes, a stale build) refuses the task, at one commit too.
   */
  build: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /**
   * The coordinator's process, which holds the run directory's lock while the run goes on: a
   * worker drops a task whose coordinator holds it no more (stopped, or the run resumed by another).
   */
  coordinator: z.strictObject({ pid: z.int().positive(), host: z.string().min(1) }).optional(),
})

export type QueueTask = z.infer<typeof queueTaskSchema>
