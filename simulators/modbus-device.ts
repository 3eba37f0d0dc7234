import { createServer, type Server, type Socket } from 'node:net';
import Modbus from 'jsmodbus';
import type { RegisterTable } from '../firmware-specs/define-device.ts';
import { type ModbusUnitOptions, SimulatedUnit } from './modbus-unit.ts';
import { realClock, type SimClock } from './mqtt-device.ts';

export { type InjectedException, type ModbusUnitOptions, SimulatedUnit } from './modbus-unit.ts';

export interface ModbusSimulatorOptions {
  units: ModbusUnitOptions[];
  host?: string;
  /** 0 (default) picks a free port; a restart keeps the port first bound. */
  port?: number;
  clock?: SimClock;
  /** Wall time to pattern time (see patterns.ts acceleratedTime); default identity. */
  patternTime?: (wallMs: number) => number;
  /** Wall milliseconds between register refreshes (default 1000). */
  updateMs?: number;
}

const FC_TABLE: Record<number, RegisterTable> = { 1: 'coil', 2: 'discrete', 3: 'holding', 4: 'input' };
const FC_WRITE: Record<number, RegisterTable> = { 5: 'coil', 6: 'holding', 15: 'coil', 16: 'holding' };

/** The parts of a jsmodbus ModbusTCPRequest the simulator reads (request/*.d.ts). */
interface WireRequest {
  unitId: number;
  body: {
    fc: number;
    start: number;
    count: number;
    address: number;
    value: number;
    quantity: number;
    valuesAsArray: Array<number | boolean>;
  };
}
type Answer = (payload: Buffer) => void;

const { responses: R } = Modbus;
const READ_BODIES: Record<number, { fromRequest(body: any, buf: Buffer): any }> = {
  1: R.ReadCoilsResponseBody,
  2: R.ReadDiscreteInputsResponseBody,
  3: R.ReadHoldingRegistersResponseBody,
  4: R.ReadInputRegistersResponseBody,
};
const WRITE_BODIES: Record<number, { fromRequest(body: any): any }> = {
  5: R.WriteSingleCoilResponseBody,
  6: R.WriteSingleRegisterResponseBody,
  15: R.WriteMultipleCoilsResponseBody,
  16: R.WriteMultipleRegistersResponseBody,
};
const EVENTS = [
  'readCoils',
  'readDiscreteInputs',
  'readHoldingRegisters',
  'readInputRegisters',
  'writeSingleCoil',
  'writeSingleRegister',
  'writeMultipleCoils',
  'writeMultipleRegisters',
] as const;

/**
 * A Modbus TCP server (jsmodbus) playing several devices behind one address, as an RS-485
 * gateway does. jsmodbus' server keeps one set of tables for every unit id, so its tables are
 * left out and each request is answered from the addressed unit's tables through the server's
 * per-request events; an unknown unit id gets exception 11, as a gateway answers.
 */
export class ModbusDeviceSimulator {
  readonly #opts: ModbusSimulatorOptions;
  readonly #clock: SimClock;
  readonly #units = new Map<number, SimulatedUnit>();
  readonly #sockets = new Set<Socket>();
  #server: Server | null = null;
  #port: number;
  #timer: unknown = null;
  readonly counters = { requests: 0, exceptions: 0, byFunction: {} as Record<number, number> };

  constructor(opts: ModbusSimulatorOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#port = opts.port ?? 0;
    for (const u of opts.units) this.#units.set(u.unitId, new SimulatedUnit(u));
    this.#refresh();
  }

  get host(): string {
    return this.#opts.host ?? '127.0.0.1';
  }

  get port(): number {
    return this.#port;
  }

  get listening(): boolean {
    return this.#server !== null;
  }

  unit(unitId: number): SimulatedUnit {
    const u = this.#units.get(unitId);
    if (!u) throw new Error(`no unit ${unitId} on this simulator`);
    return u;
  }

  /** Listens (again, on the same port after a stop); resolves with the port. */
  async start(): Promise<number> {
    if (this.#server) return this.#port;
    const net = createServer();
    net.on('connection', (socket) => {
      this.#sockets.add(socket);
      // jsmodbus' server does not listen for socket errors; a client's reset must not crash us.
      socket.on('error', () => {});
      socket.on('close', () => this.#sockets.delete(socket));
    });
    const server = new Modbus.ModbusTCPServer(net, {
      coils: undefined,
      discrete: undefined,
      holding: undefined,
      input: undefined,
    });
    for (const event of EVENTS)
      (server as unknown as NodeJS.EventEmitter).on(event, (req: WireRequest, cb: Answer) =>
        this.#handle(req, cb),
      );
    this.#port = await new Promise<number>((resolve, reject) => {
      net.once('error', reject);
      net.listen(this.#port, this.host, () => resolve((net.address() as { port: number }).port));
    });
    this.#server = net;
    this.#schedule();
    return this.#port;
  }

  /** Stops listening and drops every client, as a gateway losing power. */
  async stop(): Promise<void> {
    const net = this.#server;
    if (!net) return;
    this.#server = null;
    this.#clock.clearTimeout(this.#timer);
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => net.close(() => resolve()));
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimeout(() => {
      if (!this.#server) return;
      this.#refresh();
      this.#schedule();
    }, this.#opts.updateMs ?? 1000);
  }

  #refresh(): void {
    const now = this.#clock.now();
    const at = this.#opts.patternTime ? this.#opts.patternTime(now) : now;
    for (const u of this.#units.values()) u.refresh(at);
  }

  #handle(request: WireRequest, answer: Answer): void {
    const { body } = request;
    this.counters.requests++;
    this.counters.byFunction[body.fc] = (this.counters.byFunction[body.fc] ?? 0) + 1;
    const unit = this.#units.get(request.unitId);
    if (!unit) {
      this.#exception(request, answer, 11);
      return;
    }
    if (unit.muted) return;
    const reply = (p: Buffer) =>
      unit.delayMs > 0 ? this.#clock.setTimeout(() => answer(p), unit.delayMs) : answer(p);
    const readTable = FC_TABLE[body.fc];
    const table = readTable ?? FC_WRITE[body.fc];
    const start = readTable ? body.start : body.address;
    const count = readTable ? body.count : body.fc === 5 || body.fc === 6 ? 1 : body.quantity;
    const code = unit.exceptionFor(table, start, count, !readTable);
    if (code) this.#exception(request, reply, code);
    else if (readTable)
      this.#reply(request, reply, READ_BODIES[body.fc].fromRequest(body, unit.tables[table]));
    else {
      if (!unit.ignoreWrites) {
        if (body.fc === 5) unit.setBit('coil', start, body.value === 0xff00);
        if (body.fc === 6) unit.tables.holding.writeUInt16BE(body.value, start * 2);
        for (let i = 0; body.fc === 15 && i < count; i++)
          unit.setBit('coil', start + i, Boolean(body.valuesAsArray[i]));
        for (let i = 0; body.fc === 16 && i < count; i++)
          unit.tables.holding.writeUInt16BE(Number(body.valuesAsArray[i]), (start + i) * 2);
        unit.applyWrite(table, start, count);
      }
      this.#reply(request, reply, WRITE_BODIES[body.fc].fromRequest(body));
    }
  }

  #exception(request: WireRequest, answer: Answer, code: number): void {
    this.counters.exceptions++;
    this.#reply(request, answer, new R.ExceptionResponseBody(request.body.fc as 1, code as 2));
  }

  #reply(request: WireRequest, answer: Answer, body: any): void {
    answer(Modbus.ModbusTCPResponse.fromRequest(request as any, body).createPayload());
  }
}
