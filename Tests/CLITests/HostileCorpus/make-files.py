#!/usr/bin/env python3
"""Writes the hostile input files of the CLI corpus (cases.txt) into files/.

Run from this folder: python3 make-files.py. The files are committed; this script says
how each was made. Every file is small (the largest is a 6 kB CIFAR-10 batch)."""
import gzip, json, os, struct

os.makedirs('files', exist_ok=True)
os.chdir('files')


def npy(name, header, body=b'', major=1):
    h = header.encode('latin1')
    h = h + b' ' * ((64 - (10 + len(h) + 1) % 64) % 64) + b'\n'
    pre = b'\x93NUMPY' + bytes([major, 0]) + (struct.pack('<H', len(h)) if major == 1 else struct.pack('<I', len(h)))
    open(name, 'wb').write(pre + h + body)


def head(shape, descr='<f8'):
    return "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)


npy('neg-shape.npy', head('(-1, 2)'), b'\0' * 16)
npy('overflow-shape.npy', head('(9223372036854775807, 9223372036854775807)'), b'\0' * 16)
npy('huge-shape.npy', head('(100000, 100000)'), b'\0' * 16)
npy('bigint-shape.npy', head('(99999999999999999999999, 2)'), b'\0' * 16)
npy('three-d.npy', head('(2, 2, 2)'), b'\0' * 64)
npy('int.npy', head('(2, 2)', '<i4'), b'\0' * 16)
npy('big-endian.npy', head('(2, 2)', '>f8'), b'\0' * 32)
npy('text-shape.npy', head("('a', 2)"), b'\0' * 32)
npy('short-body.npy', head('(3, 3)'), b'\0' * 16)
npy('nan.npy', head('(2, 2)'), struct.pack('<4d', float('nan'), 0, 0, 1))
npy('not-symmetric.npy', head('(2, 2)'), struct.pack('<4d', 1, 2, 3, 4))
npy('good.npy', head('(2, 2)'), struct.pack('<4d', 2, 0, 0, 1))
npy('v2.npy', head('(2, 2)'), struct.pack('<4d', 2, 0, 0, 1), major=2)
open('header-length-lies.npy', 'wb').write(b'\x93NUMPY\x02\x00' + struct.pack('<I', 0xFFFFFFFF) + b'{}')
open('truncated.npy', 'wb').write(b'\x93NUMPY\x01')
open('empty.npy', 'wb').write(b'')
open('empty.json', 'wb').write(b'')
open('no-matrix.json', 'w').write('{}')
open('inf.json', 'w').write('{"matrix": [[1e400]]}')
open('deep.json', 'w').write('{"matrix": ' + '[' * 20000 + ']' * 20000 + '}')
open('ragged.json', 'w').write('{"matrix": [[1, 2], [3]]}')
open('strings.json', 'w').write('{"matrix": [["a"]]}')
open('good.json', 'w').write('{"matrix": [[2, 0], [0, 1]], "b": [1, 0]}')


def st(name, header, body=b'', n=None):
    h = header.encode()
    open(name, 'wb').write(struct.pack('<Q', len(h) if n is None else n) + h + body)


st('huge-header.safetensors', '{}', n=2**63)
st('not-json.safetensors', 'hello world')
st('deep.safetensors', '[' * 20000 + ']' * 20000)
st('shape-overflow.safetensors', json.dumps({"dense0.weight": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 16]}}), b'\0' * 16)
st('shape-fraction.safetensors', json.dumps({"dense0.weight": {"dtype": "F32", "shape": [1.5, 2], "data_offsets": [0, 12]}}), b'\0' * 12)
st('negative-shape.safetensors', json.dumps({"dense0.weight": {"dtype": "F32", "shape": [-1, 4], "data_offsets": [0, 16]}}), b'\0' * 16)
st('int8.safetensors', json.dumps({"dense0.weight": {"dtype": "I8", "shape": [4], "data_offsets": [0, 4]}}), b'\0' * 4)
st('offsets-outside.safetensors', json.dumps({"dense0.weight": {"dtype": "F32", "shape": [4], "data_offsets": [0, 1600]}}), b'\0' * 16)
st('empty-header.safetensors', '{}')
st('model-too-deep.safetensors', json.dumps({"__metadata__": {"model": json.dumps({"kind": "fc", "depth": 100000, "width": 8})}}))
open('truncated.safetensors', 'wb').write(b'\x10\x00')

# Fashion-MNIST folders
def fm(folder, images, labels):
    os.makedirs(folder, exist_ok=True)
    for p in ['train', 't10k']:
        open(f'{folder}/{p}-images-idx3-ubyte.gz', 'wb').write(gzip.compress(images, mtime=0))
        open(f'{folder}/{p}-labels-idx1-ubyte.gz', 'wb').write(gzip.compress(labels, mtime=0))


fm('fm-overflow', bytes([0, 0, 8, 4]) + struct.pack('>IIII', *[0x7fffffff] * 4), bytes([0, 0, 8, 1]) + struct.pack('>I', 0x7fffffff))
fm('fm-labels', bytes([0, 0, 8, 3]) + struct.pack('>III', 10, 28, 28) + bytes(7840), bytes([0, 0, 8, 1]) + struct.pack('>I', 10) + bytes([200] * 10))
fm('fm-small', bytes([0, 0, 8, 3]) + struct.pack('>III', 10, 28, 28) + bytes(7840), bytes([0, 0, 8, 1]) + struct.pack('>I', 10) + bytes(range(10)))
fm('fm-5x5', bytes([0, 0, 8, 3]) + struct.pack('>III', 10, 5, 5) + bytes(250), bytes([0, 0, 8, 1]) + struct.pack('>I', 10) + bytes(range(10)))
os.makedirs('fm-truncated-gzip', exist_ok=True)
for p in ['train', 't10k']:
    g = gzip.compress(bytes([0, 0, 8, 3]) + struct.pack('>III', 10, 28, 28) + bytes(7840), mtime=0)
    open(f'fm-truncated-gzip/{p}-images-idx3-ubyte.gz', 'wb').write(g[:len(g) // 2])
    open(f'fm-truncated-gzip/{p}-labels-idx1-ubyte.gz', 'wb').write(gzip.compress(bytes([0, 0, 8, 1]) + struct.pack('>I', 10) + bytes(10), mtime=0))

# CIFAR-10 folders
os.makedirs('cifar-size', exist_ok=True)
for i in range(1, 6):
    open(f'cifar-size/data_batch_{i}.bin', 'wb').write(bytes(3073 + 5))
os.makedirs('cifar-label', exist_ok=True)
for i in range(1, 6):
    open(f'cifar-label/data_batch_{i}.bin', 'wb').write(bytes([77]) + bytes(3072))

# notebooks
open('crlf.md', 'wb').write(b'# t\r\n\r\n```console\r\n$ echo hi\r\nhi\r\n```\r\n')
open('four-backticks.md', 'w').write('# t\n\n````console\n$ echo hi\nhi\n````\n')
open('nested-fence.md', 'w').write('# t\n\n````console\n$ printf \'a\\n```\\nb\\n\'\na\n```\nb\n$ echo two\ntwo\n````\n')
open('example-fence.md', 'w').write('# t\n\n````markdown\n```console\n$ exit 3\n```\n````\n')
open('unclosed.md', 'w').write('# t\n\n```console\n$ echo hi\nhi\n')
open('unknown-command.md', 'w').write('# t\n\n```console\n$ aeosx threshold gd --lr 0.5\nthreshold: 4\n```\n')
open('many-dots.md', 'w').write('# t\n\n```console\n$ seq 1 3000\n' + '...\n1\n' * 60 + 'x\n```\n')
open('empty-command.md', 'w').write('# t\n\n```console\n$ \n```\n')
open('runs-itself.md', 'w').write('# t\n\n```console\n$ aeos notebook check runs-itself.md\n...\n```\n')
open('background.md', 'w').write('# t\n\n```console\n$ (sleep 300 &); echo started\nstarted\n```\n')
open('slow-cell.md', 'w').write('# t\n\n```console\n$ sleep 60\n```\n')
open('binary.md', 'wb').write(bytes([0xff, 0xfe, 0x00, 0x81]) * 20)
open('latin1.md', 'wb').write('# café\n\n```console\n$ echo hi\nhi\n```\n'.encode('latin-1'))

# sweep folders (sweep.json only; no run has started)
def sweep(name, text):
    os.makedirs(name, exist_ok=True)
    open(f'{name}/sweep.json', 'w').write(text)


run = {'index': 0, 'point': {'lr': '0.1'}, 'seed': 0, 'folder': 'runs/lr=0.1/seed=0',
       'arguments': ['--lr', '0.1', '--seed', '0']}
base = {'version': 1, 'grid': {'lr': ['0.1']}, 'seeds': [0], 'shared': ['--optimizer', 'gd'],
        'threads': 1, 'environment': {'OPENBLAS_NUM_THREADS': '1'}, 'runs': [run]}
sweep('sweep-garbage', '{"version": 1, "runs": [')
sweep('sweep-escape', json.dumps({**base, 'runs': [{**run, 'folder': '../../etc'}]}))
sweep('sweep-absolute', json.dumps({**base, 'runs': [{**run, 'folder': '/etc'}]}))
sweep('sweep-version', json.dumps({**base, 'version': 99}))
sweep('sweep-not-started', json.dumps(base))
