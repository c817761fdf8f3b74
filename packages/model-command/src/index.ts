import { commandModel } from './model.js'

export { PROTOCOL } from './process.js'
export { params, type CommandParams, type CommandState } from './model.js'

/** A model in another process, on vector data. Text data get `@ouroboros/model-command/text`, the same model on sentences. */
export const model = commandModel('vectors')
export default model
