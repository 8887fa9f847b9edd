// riff's classic sample: numbers in, squares out. Text payloads are coerced to numbers by `**`.
module.exports = (x) => x ** 2;
