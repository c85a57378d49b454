// What an editor would report for a tsconfig: TypeScript's own diagnostics for the project, one line each.
import { dirname } from "node:path";
import ts from "typescript";

export function typeErrors(tsconfigPath: string): string[] {
  const host: ts.ParseConfigFileHost = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  };
  const config = ts.getParsedCommandLineOfConfigFile(tsconfigPath, {}, host);
  if (!config) throw new Error(`cannot read ${tsconfigPath}`);
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, projectReferences: config.projectReferences });
  const diagnostics = [...config.errors, ...ts.getPreEmitDiagnostics(program)];
  return diagnostics.map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, " ");
    if (!d.file || d.start === undefined) return `TS${d.code}: ${text}`;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const file = d.file.fileName.startsWith(dirname(tsconfigPath)) ? d.file.fileName.slice(dirname(tsconfigPath).length + 1) : d.file.fileName;
    return `${file}:${line + 1} TS${d.code}: ${text}`;
  });
}
