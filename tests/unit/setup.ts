import * as tf from '@tensorflow/tfjs';

// Node tests run on the pure-JS CPU backend unless a test picks another one.
await tf.setBackend('cpu');
await tf.ready();
