import { commandModel } from './model.js'

/**
 * A model in another process, on text: sentences of the dataset's token ids go to it, and its
 * samples come back as sentences. `model.command` on text data resolves to this entry.
 */
export const model = commandModel('tokens')
export default model
