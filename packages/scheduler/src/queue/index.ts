export { QUEUE_NAME, queueAddress, queueCommand, redact, type QueueAddress } from './address.js'
export { QueueRunner, type QueueRunnerOptions } from './coordinator.js'
export { startQueueWorker, type QueueWorker, type QueueWorkerOptions } from './worker.js'
export { queueTaskSchema, type QueueTask } from './task.js'
