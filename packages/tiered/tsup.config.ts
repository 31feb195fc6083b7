import { sharedTsupConfig } from '../../tsup.shared'

export default sharedTsupConfig
