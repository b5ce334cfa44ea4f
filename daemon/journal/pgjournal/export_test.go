package pgjournal

// AsyncCommit is asyncCommit, for the external tests.
const AsyncCommit = asyncCommit

// AgePrune makes the next counter add start a prune (as an hour later).
func (j *Journal) AgePrune() { j.lastPrune.Store(0) }

// WaitPrune waits for a prune started in the background.
func (j *Journal) WaitPrune() { j.pruning.Wait() }
