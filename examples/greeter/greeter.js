// An async function with JSON in and out, and an output topic: the reply goes to the caller
// and the greeting is also published to `greetings`.
module.exports = async ({ name }) => ({ greeting: `Hello ${name}!`, at: new Date().toISOString() });
