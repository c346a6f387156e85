// The ES module entry: the same functions as the CommonJS one (index.cjs).
import helper from './index.cjs';

export const { startProvider, binaryPath, AdminError } = helper;
export default helper;
