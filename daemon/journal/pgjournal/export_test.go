package pgjournal

// AsyncCommit is asyncCommit, for the external tests.
const AsyncCommit = asyncCommit
