import { NullStore } from '@cellar/core'
import { afterEach, beforeEach, describe, test } from 'vitest'
import { describeConformance } from '../src/index.js'

describeConformance({ describe, test, beforeEach, afterEach }, () => new NullStore())
